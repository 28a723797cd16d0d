/// Drains a request's edge events into a buffer allocated once, sorts them by timestamp and
/// counts the signs of lost or late events that every event-driven sensor shares:
/// - v2 sequence-number gaps (events the kernel dropped),
/// - polls where a line delivered a whole queue's worth of events (v1 cannot tell more: the kernel
///   kept the oldest 16 and dropped the newer ones),
/// - events stamped before the previous poll by more than `lateToleranceNs` (delivery latency spikes).
/// One `read` takes everything pending: the buffer holds at least the kernel's whole queue.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
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
    @exclusivity(unchecked) @usableFromInline var lastSequence: [UInt64]
    @exclusivity(unchecked) @usableFromInline var eventsThisRead: [Int]
    @exclusivity(unchecked) @usableFromInline var previousPollNs = Int64.min

    /// `eventBufferSize` is what the request was made with (0: the kernel default of 16 per line).
    public init(request: Request, eventBufferSize: Int = 0, queueCapacityPerLine: Int = 16,
                lateToleranceNs: Int64 = 1_000_000) {
        self.request = request
        self.queueCapacityPerLine = queueCapacityPerLine
        self.lateToleranceNs = lateToleranceNs
        let lines = request.offsets.count
        let capacity = max(64, queueCapacityPerLine * lines, eventBufferSize)
        buffer = .allocate(capacity: capacity)
        lastSequence = [UInt64](repeating: 0, count: lines)
        eventsThisRead = [Int](repeating: 0, count: lines)
    }

    deinit { buffer.deallocate() }

    /// Index of `offset` in the request (the sensors' line numbering).
    @inlinable
    public func lineIndex(_ offset: UInt32) -> Int {
        var index = 0
        for o in request.offsets {
            if o == offset { return index }
            index += 1
        }
        return 0
    }

    /// Reads every pending event, sorted by timestamp (stable: ties keep read order), and updates
    /// the counters. `nowNs` is the poll time; the returned view is valid until the next call.
    public func read(nowNs: Int64) throws(LineError) -> UnsafeMutableBufferPointer<EdgeEvent> {
        let n = try request.readEvents(into: buffer)
        for i in 0..<eventsThisRead.count { eventsThisRead[i] = 0 }
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
        for count in eventsThisRead where count >= queueCapacityPerLine { fullQueueReads += 1 }
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
        for i in 0..<lastSequence.count { lastSequence[i] = 0 }
        previousPollNs = nowNs
    }
}
