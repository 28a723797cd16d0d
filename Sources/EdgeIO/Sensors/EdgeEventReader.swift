/// Drains a request's edge events into a buffer allocated once, sorts them by timestamp and
/// counts the signs of lost or late events that every event-driven sensor shares:
/// - v2 sequence-number gaps (events the kernel dropped),
/// - polls where a line delivered a whole queue's worth of events (v1 cannot tell more: the kernel
///   kept the oldest 16 and dropped the newer ones),
/// - events stamped before the previous poll by more than `lateToleranceNs` (delivery latency spikes).
/// One `read` takes everything pending: the buffer holds at least the kernel's whole queue.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step. Per-line state
/// and the request's offsets live in memory allocated once (no array uniqueness checks, no `offsets`
/// array fetched through the protocol per event: this class is generic and not specialized for the
/// chip, so every such call is a witness call plus a retain and release).
public final class EdgeEventReader<Request: LineRequest> {
    public let request: Request
    /// A line delivering this many events in one poll had a full queue (16 in the kernel).
    public let queueCapacityPerLine: Int
    /// How much older than the previous poll an event may be before it counts as late.
    @exclusivity(unchecked) public var lateToleranceNs: Int64

    @exclusivity(unchecked) public private(set) var sequenceGaps = 0
    @exclusivity(unchecked) public private(set) var fullQueueReads = 0
    @exclusivity(unchecked) public private(set) var lateEvents = 0
    /// The largest lateness seen (how far before the previous poll an event was stamped).
    @exclusivity(unchecked) public private(set) var maxLatenessNs: Int64 = 0

    @usableFromInline let buffer: UnsafeMutableBufferPointer<EdgeEvent>
    /// The request's offsets (fixed for its lifetime), its line count, and per line: the last v2
    /// sequence number and the events of the current read.
    @usableFromInline let offsets: UnsafeMutablePointer<UInt32>
    @usableFromInline let lineCount: Int
    @usableFromInline let lastSequence: UnsafeMutablePointer<UInt64>
    @usableFromInline let eventsThisRead: UnsafeMutablePointer<Int>
    @exclusivity(unchecked) @usableFromInline var previousPollNs = Int64.min

    /// `eventBufferSize` is what the request was made with (0: the kernel default of 16 per line).
    public init(request: Request, eventBufferSize: Int = 0, queueCapacityPerLine: Int = 16,
                lateToleranceNs: Int64 = 1_000_000) {
        self.request = request
        self.queueCapacityPerLine = queueCapacityPerLine
        self.lateToleranceNs = lateToleranceNs
        let requestOffsets = request.offsets
        let lines = requestOffsets.count
        let capacity = max(64, queueCapacityPerLine * lines, eventBufferSize)
        buffer = .allocate(capacity: capacity)
        lineCount = lines
        offsets = .allocate(capacity: max(lines, 1))
        offsets.initialize(repeating: 0, count: max(lines, 1))
        for (k, o) in requestOffsets.enumerated() { offsets[k] = o }
        lastSequence = .allocate(capacity: max(lines, 1))
        lastSequence.initialize(repeating: 0, count: max(lines, 1))
        eventsThisRead = .allocate(capacity: max(lines, 1))
        eventsThisRead.initialize(repeating: 0, count: max(lines, 1))
    }

    deinit {
        buffer.deallocate()
        offsets.deallocate()
        lastSequence.deallocate()
        eventsThisRead.deallocate()
    }

    /// Index of `offset` in the request (the sensors' line numbering); 0 if it is not one of them.
    @inlinable
    public func lineIndex(_ offset: UInt32) -> Int {
        for k in 0..<lineCount where offsets[k] == offset { return k }
        return 0
    }

    /// Reads every pending event, sorted by timestamp (stable: ties keep read order), and updates
    /// the counters. `nowNs` is the poll time; the returned view is valid until the next call.
    public func read(nowNs: Int64) throws(LineError) -> UnsafeMutableBufferPointer<EdgeEvent> {
        let n = try request.readEvents(into: buffer)
        if n == 0 {
            previousPollNs = nowNs
            return UnsafeMutableBufferPointer(rebasing: buffer[0..<0])
        }
        // Insertion sort: each line's events are already in order, so this is a cheap merge.
        var i = 1
        while i < n {
            let event = buffer[i]
            var j = i
            while j > 0 && buffer[j - 1].timestampNs > event.timestampNs {
                buffer[j] = buffer[j - 1]
                j -= 1
            }
            buffer[j] = event
            i += 1
        }
        for k in 0..<n {
            let event = buffer[k]
            let line = lineIndex(event.offset)
            eventsThisRead[line] += 1
            if event.lineSequence != 0 {
                if lastSequence[line] != 0 && event.lineSequence > lastSequence[line] + 1 {
                    sequenceGaps += Int(event.lineSequence - lastSequence[line] - 1)
                }
                lastSequence[line] = event.lineSequence
            }
            if previousPollNs != Int64.min && event.timestampNs < previousPollNs - lateToleranceNs {
                lateEvents += 1
                maxLatenessNs = max(maxLatenessNs, previousPollNs - event.timestampNs)
            }
        }
        // Zeroed as they are checked (zero between reads): a memset call per read cost more.
        for k in 0..<lineCount {
            if eventsThisRead[k] >= queueCapacityPerLine { fullQueueReads += 1 }
            eventsThisRead[k] = 0
        }
        previousPollNs = nowNs
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<n])
    }

    /// Throws away pending events and zeroes the counters (after a reset or a re-home).
    public func discardPending(nowNs: Int64) throws(LineError) {
        while try request.readEvents(into: buffer) > 0 {}
        sequenceGaps = 0
        fullQueueReads = 0
        lateEvents = 0
        maxLatenessNs = 0
        lastSequence.update(repeating: 0, count: lineCount)
        previousPollNs = nowNs
    }
}
