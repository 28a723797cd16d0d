import CEdgeSys

/// The byte stream to an external plant: a child process on three pipes (`exec:`) or a Unix socket
/// (`unix:`). Reads whole lines with a deadline (poll), writes with a deadline, keeps the tail of the
/// child's standard error for messages, and tells a dead child's exit status.
///
/// Buffers are allocated once, at connection; `readLine` and `write` allocate nothing unless they fail.
/// Not thread-safe: one thread talks to a plant.
final class PlantConnection {
    /// How errors name the plant.
    let label: String
    /// The child's pid (`exec:`), or -1.
    private(set) var pid: Int32 = -1
    /// Where the plant's lines come from, and where requests go (the same socket for `unix:`).
    private var input: Int32 = -1
    private var output: Int32 = -1
    /// The child's standard error, read into `tail` whenever edge-ctl waits (-1: none, or at its end).
    private var errorStream: Int32 = -1

    /// Received bytes not yet returned: inbox[start..<end]; `scanned` bytes from `start` have no newline.
    private let inbox: UnsafeMutablePointer<UInt8>
    private let capacity = PlantProtocol.maxLineBytes
    private var start = 0, end = 0, scanned = 0

    /// The last `tailCapacity` bytes of the child's standard error (a ring; `tailWritten` counts all).
    private let tail: UnsafeMutablePointer<UInt8>
    private let tailCapacity = 4_096
    private var tailWritten = 0

    /// poll(2) arguments: [input, errorStream].
    private let pollFDs: UnsafeMutablePointer<Int32>
    private let pollReady: UnsafeMutablePointer<Int16>

    /// How the child ended, once it was reaped.
    private(set) var exit: edge_plant_exit? = nil

    /// Starts or connects to the plant at `address`.
    init(address: PlantAddress) throws(ExternalPlantError) {
        label = address.label
        inbox = .allocate(capacity: PlantProtocol.maxLineBytes)
        tail = .allocate(capacity: 4_096)
        pollFDs = .allocate(capacity: 2)
        pollReady = .allocate(capacity: 2)
        switch address {
        case .exec(let command):
            var child: Int32 = -1, toChild: Int32 = -1, fromChild: Int32 = -1, childError: Int32 = -1
            let rc = command.withCString { edge_plant_spawn($0, &child, &toChild, &fromChild, &childError) }
            guard rc == 0 else { throw ExternalPlantError(plant: label, fault: .cannotStart(errno: -rc)) }
            pid = child
            output = toChild
            input = fromChild
            errorStream = childError
        case .unix(let path):
            let fd = path.withCString { edge_plant_connect_unix($0) }
            guard fd >= 0 else { throw ExternalPlantError(plant: label, fault: .cannotConnect(path: path, errno: -fd)) }
            input = fd
            output = fd
        }
    }

    deinit {
        close(graceNs: 0)
        inbox.deallocate()
        tail.deallocate()
        pollFDs.deallocate()
        pollReady.deallocate()
    }

    /// An error about this plant, with the tail of its standard error.
    func failure(_ fault: ExternalPlantError.Fault) -> ExternalPlantError {
        ExternalPlantError(plant: label, fault: fault, stderrTail: stderrTail())
    }

    /// The next line (without its newline and a trailing carriage return), valid until the next call.
    /// Waits at most `timeoutNs`; `waitingFor` says what for in the error messages.
    func readLine(timeoutNs: Int64, waitingFor: @autoclosure () -> String) throws(ExternalPlantError) -> UnsafeBufferPointer<UInt8> {
        if start > 0 {
            if end > start { (inbox + start).withMemoryRebound(to: UInt8.self, capacity: end - start) { inbox.update(from: $0, count: end - start) } }
            end -= start
            start = 0
        }
        let deadline = edge_monotonic_ns() + timeoutNs
        while true {
            var i = start + scanned
            while i < end {
                if inbox[i] == 10 {
                    var lineEnd = i
                    if lineEnd > start && inbox[lineEnd - 1] == 13 { lineEnd -= 1 }
                    let line = UnsafeBufferPointer(start: inbox + start, count: lineEnd - start)
                    start = i + 1
                    scanned = 0
                    return line
                }
                i += 1
            }
            scanned = end - start
            if end == capacity { throw failure(.lineTooLong(waitingFor: waitingFor(), limit: capacity)) }
            let left = deadline - edge_monotonic_ns()
            if left <= 0 {
                throw failure(.timedOut(waitingFor: waitingFor(), seconds: Double(timeoutNs) * 1e-9))
            }
            pollFDs[0] = input
            pollFDs[1] = errorStream
            let n = edge_plant_poll_read(pollFDs, errorStream >= 0 ? 2 : 1, left, pollReady)
            if n < 0 { throw failure(.io(call: "poll", errno: -n)) }
            if n == 0 { continue }
            if errorStream >= 0 && pollReady[1] != 0 { drainErrorStream() }
            if pollReady[0] != 0 {
                let got = edge_plant_read(input, inbox + end, capacity - end)
                if got > 0 {
                    end += Int(got)
                } else if got == 0 {
                    throw endOfFile(waitingFor: waitingFor())
                } else if got != -11 {  // EAGAIN: spurious wake-up
                    throw failure(.io(call: "read", errno: Int32(-got)))
                }
            }
        }
    }

    /// Sends `count` bytes, waiting at most `timeoutNs` for the plant to take them. `request` names
    /// the message for errors.
    func write(_ bytes: UnsafePointer<UInt8>, count: Int, timeoutNs: Int64, request: @autoclosure () -> String) throws(ExternalPlantError) {
        let rc = edge_plant_write_all(output, bytes, count, timeoutNs)
        if rc == 0 { return }
        if rc == -32 {  // EPIPE: the plant is gone
            throw endOfFile(waitingFor: "the plant to read '" + request() + "'")
        }
        if rc == -110 || rc == -60 {  // ETIMEDOUT (Linux, macOS)
            throw failure(.notReading(request: request(), seconds: Double(timeoutNs) * 1e-9))
        }
        throw failure(.io(call: "write", errno: -rc))
    }

    /// The plant's end is closed: find out why (a child's exit status, with what it said on standard
    /// error) and make the error.
    private func endOfFile(waitingFor: String) -> ExternalPlantError {
        guard pid > 0 else { return failure(.closed(waitingFor: waitingFor)) }
        var status = edge_plant_exit()
        _ = edge_plant_wait(pid, 3_000_000_000, &status)
        // What the child wrote just before it ended may still be in the pipe.
        let deadline = edge_monotonic_ns() + 500_000_000
        while errorStream >= 0 && edge_monotonic_ns() < deadline {
            pollFDs[0] = errorStream
            if edge_plant_poll_read(pollFDs, 1, deadline - edge_monotonic_ns(), pollReady) <= 0 { break }
            drainErrorStream()
        }
        if status.exited != 0 {
            exit = status
            pid = -1
            return failure(.exited(waitingFor: waitingFor, exitCode: status.exit_code, signal: status.signal))
        }
        return failure(.closed(waitingFor: waitingFor))
    }

    /// Reads what the child wrote to standard error into the tail; closes the stream at its end.
    private func drainErrorStream() {
        guard errorStream >= 0 else { return }
        var chunk: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                    UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &chunk) { raw in
            while true {
                let got = edge_plant_read(errorStream, raw.baseAddress!, raw.count)
                if got <= 0 {
                    if got != -11 {  // end of file or an error: nothing more will come
                        _ = edge_file_close(errorStream)
                        errorStream = -1
                    }
                    return
                }
                for k in 0..<Int(got) {
                    tail[tailWritten % tailCapacity] = raw[k]
                    tailWritten += 1
                }
            }
        }
    }

    /// The last lines of the child's standard error, joined by " | ", at most 400 bytes; "" if none.
    func stderrTail() -> String {
        drainErrorStream()
        let kept = min(tailWritten, tailCapacity)
        var bytes = [UInt8]()
        bytes.reserveCapacity(kept)
        for k in (tailWritten - kept)..<tailWritten { bytes.append(tail[k % tailCapacity]) }
        // Lines, without empty ones and control bytes, joined.
        var lines: [[UInt8]] = [[]]
        for b in bytes {
            if b == 10 || b == 13 { if !lines[lines.count - 1].isEmpty { lines.append([]) } }
            else { lines[lines.count - 1].append(b < 32 || b == 127 ? 32 : b) }
        }
        if lines[lines.count - 1].isEmpty { lines.removeLast() }
        var joined = [UInt8]()
        for line in lines.reversed() {
            let extra = line.count + (joined.isEmpty ? 0 : 3)
            if joined.count + extra > 400 {
                if joined.isEmpty { joined = [46, 46, 46] + line.suffix(397) }
                break
            }
            joined = line + (joined.isEmpty ? [] : [32, 124, 32] + joined)
        }
        return String(decoding: joined, as: UTF8.self)
    }

    /// Closes the streams; a child gets `graceNs` to exit on its own (it sees end of file on its
    /// standard input), then SIGTERM, then SIGKILL, and is reaped. Returns how the child ended.
    @discardableResult
    func close(graceNs: Int64) -> edge_plant_exit? {
        if output >= 0 && output != input { _ = edge_file_close(output) }
        output = -1
        if pid > 0 {
            var status = edge_plant_exit()
            _ = edge_plant_wait(pid, graceNs, &status)
            if status.exited == 0 { _ = edge_plant_terminate(pid, 1_000_000_000, &status) }
            exit = status
            pid = -1
        }
        if input >= 0 { _ = edge_file_close(input) }
        input = -1
        if errorStream >= 0 { _ = edge_file_close(errorStream) }
        errorStream = -1
        return exit
    }
}
