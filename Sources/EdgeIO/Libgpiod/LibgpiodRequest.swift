import CEdgeSys

/// Lines requested together from a `LibgpiodChip`. A reference: copies share the request.
/// Reading events never allocates: they pass through a batch buffer allocated with the request.
public final class LibgpiodRequest: LineRequest {
    private let chip: LibgpiodChip
    private var handle: OpaquePointer?
    public let offsets: [UInt32]
    /// Requested as outputs (true) or inputs (false).
    public let isOutput: Bool
    private let batch: UnsafeMutableBufferPointer<edge_gpiod_event>

    init(chip: LibgpiodChip, handle: OpaquePointer, offsets: [UInt32], isOutput: Bool) {
        self.chip = chip
        self.handle = handle
        self.offsets = offsets
        self.isOutput = isOutput
        batch = .allocate(capacity: 64)
    }

    /// The live C request holding `offset`, or `lineNotRequested`.
    private func requested(_ offset: UInt32) throws(LineError) -> OpaquePointer {
        guard let handle, offsets.contains(offset) else {
            throw .lineNotRequested(chip: chip.label, offset: offset)
        }
        return handle
    }

    public func getValue(_ offset: UInt32) throws(LineError) -> Bool {
        let value = edge_gpiod_request_get_value(try requested(offset), offset)
        guard value >= 0 else { throw lineError(-value, offset, "get value") }
        return value == 1
    }

    public func getValues() throws(LineError) -> UInt64 {
        guard let handle else { throw .lineNotRequested(chip: chip.label, offset: offsets[0]) }
        var bits: UInt64 = 0
        let status = edge_gpiod_request_get_values(handle, &bits)
        guard status == 0 else { throw lineError(-status, offsets[0], "get values") }
        return bits
    }

    public func setValue(_ offset: UInt32, _ value: Bool) throws(LineError) {
        let handle = try requested(offset)
        guard isOutput else { throw .setOnInput(chip: chip.label, offset: offset) }
        let status = edge_gpiod_request_set_value(handle, offset, value ? 1 : 0)
        guard status == 0 else { throw lineError(-status, offset, "set value") }
    }

    public func waitEvents(timeoutNs: Int64) throws(LineError) -> Bool {
        guard let handle else { throw .lineNotRequested(chip: chip.label, offset: offsets[0]) }
        let status = edge_gpiod_request_wait(handle, timeoutNs)
        guard status >= 0 else { throw lineError(-status, offsets[0], "wait for edge events") }
        return status == 1
    }

    public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(LineError) -> Int {
        guard let handle else { throw .lineNotRequested(chip: chip.label, offset: offsets[0]) }
        var stored = 0
        while stored < buffer.count {
            let wanted = min(buffer.count - stored, batch.count)
            let count = Int(edge_gpiod_request_read_events(handle, batch.baseAddress, wanted))
            guard count >= 0 else { throw lineError(Int32(-count), offsets[0], "read edge events") }
            for event in batch[0..<count] {
                buffer[stored] = EdgeEvent(offset: event.offset, isRising: event.rising != 0,
                                           timestampNs: Int64(bitPattern: event.timestamp_ns),
                                           lineSequence: event.line_seqno, globalSequence: event.global_seqno)
                stored += 1
            }
            if count < wanted { break }
        }
        return stored
    }

    public func release() {
        guard let handle else { return }
        edge_gpiod_request_release(handle)
        self.handle = nil
        chip.requestReleased()
    }

    private func lineError(_ errno: Int32, _ offset: UInt32, _ call: String) -> LineError {
        LibgpiodErrors.line(errno, chip: chip.label, offset: offset, call: call) { chip.consumerName(of: offset) }
    }

    deinit {
        release()
        batch.deallocate()
    }
}
