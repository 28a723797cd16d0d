import CEdgeSys

/// One open GPIO chip. The C chip is closed once `close()` was called and every request made from it
/// is released (libgpiod v1 frees a chip's lines with the chip, so closing earlier would leave the
/// requests dangling).
public final class LibgpiodChip: LineChip {
    public typealias Request = LibgpiodRequest

    let library: LibgpiodLibrary
    private var handle: OpaquePointer?
    private var openRequests = 0
    private var closeRequested = false
    /// The device path it was opened from, e.g. "/dev/gpiochip0".
    public let path: String
    public let name: String
    public let label: String
    public let lineCount: Int

    init(library: LibgpiodLibrary, handle: OpaquePointer, path: String) {
        self.library = library
        self.handle = handle
        self.path = path
        name = cString(edge_gpiod_chip_name(handle))
        label = cString(edge_gpiod_chip_label(handle))
        lineCount = Int(edge_gpiod_chip_num_lines(handle))
    }

    public func nowNs() -> Int64 {
        edge_monotonic_ns()
    }

    public func requestInputs(_ offsets: [UInt32], flags: LineFlags, consumer: String,
                              eventBufferSize: Int) throws(LineError) -> LibgpiodRequest {
        try request(offsets, defaults: [], output: false, flags: flags, consumer: consumer,
                    eventBufferSize: eventBufferSize)
    }

    public func requestOutputs(_ offsets: [UInt32], defaults: [Bool], flags: LineFlags,
                               consumer: String) throws(LineError) -> LibgpiodRequest {
        guard defaults.count == offsets.count else {
            throw .invalidFlags(chip: label, offset: offsets.first ?? 0,
                                reason: "\(defaults.count) default values for \(offsets.count) lines")
        }
        return try request(offsets, defaults: defaults, output: true, flags: flags, consumer: consumer,
                           eventBufferSize: 0)
    }

    private func request(_ offsets: [UInt32], defaults: [Bool], output: Bool, flags: LineFlags, consumer: String,
                         eventBufferSize: Int) throws(LineError) -> LibgpiodRequest {
        guard let handle, !closeRequested else {
            throw .system(chip: label, offset: offsets.first, errno: LibgpiodErrors.badDescriptor,
                          call: "request on a closed chip")
        }
        if let reason = requestSizeProblem(lineCount: offsets.count) {
            throw .invalidFlags(chip: label, offset: offsets.first ?? 0, reason: reason)
        }
        let first = offsets[0]
        for offset in offsets where Int(offset) >= lineCount {
            throw .offsetOutOfRange(chip: label, offset: offset, lineCount: lineCount)
        }
        if let reason = flags.invalidReason(forOutput: output) {
            throw .invalidFlags(chip: label, offset: first, reason: reason)
        }
        let levels = defaults.map { Int32($0 ? 1 : 0) }
        var request: OpaquePointer?
        var failedOffset: UInt32 = first
        let status = offsets.withUnsafeBufferPointer { lines in
            levels.withUnsafeBufferPointer { values in
                consumer.withCString { name in
                    edge_gpiod_request_lines(handle, lines.baseAddress, output ? values.baseAddress : nil, lines.count,
                                             output ? 1 : 0, LibgpiodChip.cFlags(flags), name,
                                             max(eventBufferSize, 0), &request, &failedOffset)
                }
            }
        }
        guard status == 0, let request else {
            throw LibgpiodErrors.line(-status, chip: label, offset: failedOffset, call: "request lines") {
                consumerName(of: failedOffset)
            }
        }
        openRequests += 1
        return LibgpiodRequest(chip: self, handle: request, offsets: offsets, isOutput: output)
    }

    /// Who holds `offset` ("" when free, unnamed or unknown).
    public func consumerName(of offset: UInt32) -> String {
        guard let handle else { return "" }
        var buffer = [CChar](repeating: 0, count: 64)
        let status = buffer.withUnsafeMutableBufferPointer {
            edge_gpiod_chip_line_consumer(handle, offset, $0.baseAddress, $0.count)
        }
        return status == 0 ? buffer.withUnsafeBufferPointer { cString($0.baseAddress) } : ""
    }

    /// The C layer's flag bits for `flags`.
    static func cFlags(_ flags: LineFlags) -> UInt32 {
        var bits: UInt32 = 0
        if flags.contains(.activeLow) { bits |= UInt32(EDGE_GPIOD_ACTIVE_LOW) }
        if flags.contains(.biasPullUp) { bits |= UInt32(EDGE_GPIOD_BIAS_PULL_UP) }
        if flags.contains(.biasPullDown) { bits |= UInt32(EDGE_GPIOD_BIAS_PULL_DOWN) }
        if flags.contains(.biasDisabled) { bits |= UInt32(EDGE_GPIOD_BIAS_DISABLED) }
        if flags.contains(.openDrain) { bits |= UInt32(EDGE_GPIOD_OPEN_DRAIN) }
        if flags.contains(.openSource) { bits |= UInt32(EDGE_GPIOD_OPEN_SOURCE) }
        if flags.contains(.edgeRising) { bits |= UInt32(EDGE_GPIOD_EDGE_RISING) }
        if flags.contains(.edgeFalling) { bits |= UInt32(EDGE_GPIOD_EDGE_FALLING) }
        return bits
    }

    /// Called by a request when it is released.
    func requestReleased() {
        openRequests -= 1
        closeIfDone()
    }

    public func close() {
        closeRequested = true
        closeIfDone()
    }

    private func closeIfDone() {
        guard closeRequested, openRequests == 0, let handle else { return }
        edge_gpiod_chip_close(handle)
        self.handle = nil
    }

    deinit {
        if let handle { edge_gpiod_chip_close(handle) }
    }
}
