/// Settings of a `QuadratureDecoder`.
public struct QuadratureSettings: Sendable {
    /// Counts (edges, x4) per unit of position: per radian for a shaft, per meter for a linear scale.
    public var countsPerUnit: Double
    /// Speeds are averaged over the edges of the last `velocityWindowNs` (count per interval).
    /// With fewer than two edges in it, the last edge-to-edge interval is used instead.
    public var velocityWindowNs: Int64 = 10_000_000
    /// No edge for this long means standing still.
    public var stopTimeoutNs: Int64 = 500_000_000
    /// Two events on one line closer than this are a glitch (noise), not motion. Real encoder edges on
    /// one line are hundreds of µs apart at these rigs' top speeds; noise pulses are sub-µs.
    /// (FirmwareSim's Pendulum-v1 reverses instantly at step boundaries, which very rarely puts two
    /// genuine edges this close: about once in 20,000 steps at 5 µs.)
    public var minPulseNs: Int64 = 2_000
    /// More consecutive events than this on one line, with the other line silent, suggest a stuck line
    /// (at any speed: the slow check).
    public var stuckRunLength: Int = 32
    /// The fast stuck-line check: this many consecutive events on one line, each within
    /// `fastStuckIntervalNs` of the previous one, with the other line silent. Every one-line event
    /// after the first is a reversal of the shaft at that edge, so this is `fastStuckRunLength - 1`
    /// reversals each less than about two intervals after the last: a turning shaft does not do that
    /// (Pendulum-v1 reverses only at its 50 ms step boundaries; the motor's smooth, overdamped speed
    /// turns around at most about once per 10 ms period), while a stuck line gives exactly this pattern
    /// at the other line's edge rate. Fault-free runs of 450,000 steps never showed even 3 such events
    /// (2, a single reversal next to an edge, do happen). 4 within 2 ms each flags a stuck line within
    /// a few ms once the other line toggles faster than every 2 ms (the motor rig above about
    /// 130 rad/s, the pendulum above about 3 rad/s); slower, the `stuckRunLength` check takes over.
    /// Glitch pairs (`minPulseNs`) are taken out of the run.
    public var fastStuckRunLength: Int = 4
    public var fastStuckIntervalNs: Int64 = 2_000_000
    /// How late an event may arrive (stamped before the previous poll) before it counts as late.
    public var lateToleranceNs: Int64 = 1_000_000
    /// Extra request flags: a bias and/or active-low (edge detection on both edges is always added).
    public var flags: LineFlags = []
    /// The v2 request's event queue size (0: kernel default, 16 per line).
    public var eventBufferSize: Int = 0

    public init(countsPerUnit: Double) {
        self.countsPerUnit = countsPerUnit
    }

    /// Settings for a rotary encoder with `countsPerRevolution` x4 counts, positions in radians.
    public static func rotary(countsPerRevolution: Int) -> QuadratureSettings {
        QuadratureSettings(countsPerUnit: Double(countsPerRevolution) / (2 * Double.pi))
    }
}

/// What went wrong while decoding, counted since the last reset. A test or the safety layer reads
/// these; any non-zero counter means the position may be off.
public struct QuadratureFaults: Equatable, Sendable {
    /// Both lines changed at once (same timestamp, or a level read two steps away from the decoded
    /// state): the direction is unknown, so the count is left unchanged.
    public var illegalTransitions = 0
    /// Level reads that disagreed with the decoded state by one line: an edge was lost (missed
    /// interrupt, dropped event, stuck line). The decoder resyncs to the levels it read.
    public var levelMismatches = 0
    /// Polls in which one line delivered a full queue: newer events were probably dropped.
    public var fullQueueReads = 0
    /// Events missing according to v2 sequence numbers.
    public var sequenceGaps = 0
    /// Pulses shorter than `minPulseNs` on one line (electrical noise).
    public var glitches = 0
    /// Events stamped well before the previous poll (delivery latency spike).
    public var lateEvents = 0
    /// Events on one line while the other stayed silent, from the `stuckRunLength + 1`-th of the run on
    /// (the count grows while the pattern lasts). Slow runs happen on healthy wiring when a shaft at
    /// rest dithers across one edge: the safety layer acts on them only under a drive.
    public var stuckRuns = 0
    /// Events on one line, with the other silent, that complete `fastStuckRunLength` events each within
    /// `fastStuckIntervalNs` of the previous (grows while the pattern lasts): reversals faster than a
    /// shaft reverses, a stuck line at speed.
    public var fastStuckRuns = 0
    /// Not a fault: edge events taken in since the last reset (the denominator of the safety layer's
    /// lost-edge fraction). Not part of `any`.
    public var edges = 0

    public init() {}

    /// Physical evidence of lost edges: level reads that disagreed with the decoded state
    /// (`levelMismatches`) and two-line jumps (`illegalTransitions`).
    @inlinable
    public var lostEdgeEvidence: Int { levelMismatches + illegalTransitions }

    /// True when any counter is non-zero.
    public var any: Bool {
        illegalTransitions + levelMismatches + fullQueueReads + sequenceGaps + glitches + lateEvents
            + stuckRuns + fastStuckRuns > 0
    }
}

/// x4 quadrature decoder over edge events, robust to libgpiod v1's unreliable event types:
/// each event is taken as a toggle of its line, events of both lines are merged by timestamp, and
/// the decoded state is checked against the line levels read at the previous poll (once every
/// event stamped before that read has arrived), resyncing on a mismatch.
///
/// Call `poll()` often enough that no line gets 16 edges between polls (at 2048 counts per
/// revolution and 8 rad/s that is every 12 ms; poll every 1-2 ms). `poll`, `position` and
/// `velocity` never allocate.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class QuadratureDecoder<Chip: LineChip> {
    public let chip: Chip
    public let request: Chip.Request
    public let settings: QuadratureSettings
    public let offsetA: UInt32
    public let offsetB: UInt32

    /// Position in counts (x4): +1 per edge in the A-leads-B direction.
    ///
    /// A computed property over `countValue`, deliberately not `@inlinable`: a stored `public var`
    /// read directly from another module (the safety layer's stuck check, every control step) got a
    /// dynamic exclusivity check (`swift_beginAccess`, about 80 instructions) despite
    /// `@exclusivity(unchecked)`, which only applies inside this module.
    public var count: Int64 { countValue }
    @exclusivity(unchecked) @usableFromInline var countValue: Int64 = 0
    @exclusivity(unchecked) public private(set) var faults = QuadratureFaults()

    @usableFromInline let reader: EdgeEventReader<Chip.Request>
    /// Decoded logical levels: bit 0 line A, bit 1 line B.
    @exclusivity(unchecked) @usableFromInline var state: UInt8 = 0
    /// Levels read at the previous poll, checked once the events stamped up to then are in.
    @exclusivity(unchecked) @usableFromInline var checkState: UInt8 = 0
    @exclusivity(unchecked) @usableFromInline var checkTimeNs = Int64.min
    @exclusivity(unchecked) @usableFromInline var checkPending = false
    @exclusivity(unchecked) @usableFromInline var lastEventNs = Int64.min
    @exclusivity(unchecked) @usableFromInline var lastEventLine = -1
    @exclusivity(unchecked) @usableFromInline var lastDelta: Int64 = 0
    @exclusivity(unchecked) @usableFromInline var lastLineEventNs: (Int64, Int64) = (Int64.min, Int64.min)
    /// The current run of events on one line: its line, length, how many of its last events came
    /// within `fastStuckIntervalNs` of each other, the time of its last event, and what the last event
    /// changed (to take a glitch's first toggle back out).
    @exclusivity(unchecked) @usableFromInline var runLine = -1
    @exclusivity(unchecked) @usableFromInline var runLength = 0
    @exclusivity(unchecked) @usableFromInline var fastRunLength = 0
    @exclusivity(unchecked) @usableFromInline var runLastNs = Int64.min
    @exclusivity(unchecked) @usableFromInline var undoFastRunLength = 0
    @exclusivity(unchecked) @usableFromInline var undoRunLastNs = Int64.min
    /// Recent counted edges (time, count after the edge), for the velocity estimate. A power of two:
    /// ring indices wrap with a mask (the velocity estimate walks the ring every control step).
    @usableFromInline static var historyCapacity: Int { 64 }
    @inlinable static func ringIndex(_ i: Int) -> Int { i & (historyCapacity - 1) }
    @usableFromInline let historyTimes: UnsafeMutablePointer<Int64>
    @usableFromInline let historyCounts: UnsafeMutablePointer<Int64>
    @exclusivity(unchecked) @usableFromInline var historyNext = 0
    @exclusivity(unchecked) @usableFromInline var historyCount = 0

    /// Requests lines `a` and `b` as inputs with both-edge detection and reads their levels.
    /// The count starts at 0; call `reset(count:)` after homing.
    public init(chip: Chip, a: UInt32, b: UInt32, settings: QuadratureSettings,
                consumer: String = "edge-ctl encoder") throws(LineError) {
        self.chip = chip
        self.settings = settings
        offsetA = a
        offsetB = b
        request = try chip.requestInputs([a, b], flags: settings.flags.union(.edgeBoth), consumer: consumer,
                                         eventBufferSize: settings.eventBufferSize)
        reader = EdgeEventReader(request: request, eventBufferSize: settings.eventBufferSize,
                                 lateToleranceNs: settings.lateToleranceNs)
        historyTimes = .allocate(capacity: Self.historyCapacity)
        historyTimes.initialize(repeating: Int64.min, count: Self.historyCapacity)
        historyCounts = .allocate(capacity: Self.historyCapacity)
        historyCounts.initialize(repeating: 0, count: Self.historyCapacity)
        do {
            try reset(count: 0)
        } catch {
            request.release()
            throw error
        }
    }

    deinit {
        historyTimes.deallocate()
        historyCounts.deallocate()
    }

    /// Gives the lines back.
    public func release() { request.release() }

    /// Homes the decoder: drops pending events, clears faults and history, reads the levels and sets
    /// the count to `count`, moved by at most two to the nearest count whose phase matches the levels.
    public func reset(count: Int64) throws(LineError) {
        let now = chip.nowNs()
        try reader.discardPending(nowNs: now)
        state = try readLevels()
        let expectedPhase = Int64(quadraturePhase(state))
        var phaseError = (expectedPhase - count) % 4
        if phaseError < 0 { phaseError += 4 }
        countValue = count + (phaseError == 3 ? -1 : phaseError)
        faults = QuadratureFaults()
        checkPending = false
        lastEventNs = Int64.min
        lastEventLine = -1
        lastDelta = 0
        lastLineEventNs = (Int64.min, Int64.min)
        runLine = -1
        runLength = 0
        fastRunLength = 0
        runLastNs = Int64.min
        undoFastRunLength = 0
        undoRunLastNs = Int64.min
        historyNext = 0
        historyCount = 0
        historyTimes.update(repeating: Int64.min, count: Self.historyCapacity)
    }

    /// Takes in every pending edge, checks the previous poll's level read, reads the levels again.
    public func poll() throws(LineError) {
        let now = chip.nowNs()
        let events = try reader.read(nowNs: now)
        for event in events {
            if checkPending && event.timestampNs > checkTimeNs { resyncToCheckedLevels() }
            apply(event)
        }
        if checkPending { resyncToCheckedLevels() }
        faults.sequenceGaps = reader.sequenceGaps
        faults.fullQueueReads = reader.fullQueueReads
        faults.lateEvents = reader.lateEvents
        checkState = try readLevels()
        checkTimeNs = now
        checkPending = true
    }

    /// Position in units (radians or meters): the middle of the current count's cell, so the error
    /// is at most half a count while no edge is lost.
    @inlinable
    public var position: Double { (Double(count) + 0.5) / settings.countsPerUnit }

    /// Speed in units per second at time `nowNs` (normally `chip.nowNs()` after a poll): counts over
    /// the edges of the last `velocityWindowNs` divided by their time span; at low speed, one count
    /// over the last edge interval, lowered to 1 / (time since the last edge) as that grows.
    public func velocity(nowNs: Int64) -> Double {
        guard historyCount > 0 else { return 0 }
        let newest = Self.ringIndex(historyNext - 1)
        let newestNs = historyTimes[newest]
        let newestCount = historyCounts[newest]
        if nowNs - newestNs > settings.stopTimeoutNs { return 0 }
        // The oldest edge in the window, `back` edges before the newest. History times never decrease
        // (`recordHistory`), so the edges in the window are a run back from the newest and a binary
        // search finds its end in log2(capacity) selects; the linear walk it replaced mispredicted
        // its exit every control step. Unused ring slots hold Int64.min: never in the window.
        let windowStartNs = nowNs - settings.velocityWindowNs
        var back = 0
        var step = Self.historyCapacity / 2
        while step > 0 {
            let candidate = back + step
            let inWindow = historyTimes[Self.ringIndex(newest - candidate)] >= windowStartNs
            back = inWindow && candidate < historyCount ? candidate : back
            step >>= 1
        }
        let oldest = Self.ringIndex(newest - back)
        if back > 0 {
            let span = newestNs - historyTimes[oldest]
            if span > 0 { return Double(newestCount - historyCounts[oldest]) * 1e9 / Double(span) / settings.countsPerUnit }
        }
        guard historyCount >= 2 else { return 0 }
        let previous = Self.ringIndex(newest - 1)
        let counts = newestCount - historyCounts[previous]
        let interval = newestNs - historyTimes[previous]
        guard counts == 1 || counts == -1, interval > 0 else { return 0 }
        var countsPerSecond = 1e9 / Double(interval)
        if nowNs > newestNs { countsPerSecond = min(countsPerSecond, 1e9 / Double(nowNs - newestNs)) }
        return Double(counts) * countsPerSecond / settings.countsPerUnit
    }

    // MARK: Decoding

    /// Both levels in one read: the request holds [A, B], so bit 0 is A and bit 1 is B.
    @usableFromInline
    func readLevels() throws(LineError) -> UInt8 {
        UInt8(truncatingIfNeeded: try request.getValues() & 3)
    }

    /// One event: toggle its line, count the step, watch for glitches, stuck runs and ties.
    @usableFromInline
    func apply(_ event: EdgeEvent) {
        let line = event.offset == offsetA ? 0 : 1
        let t = event.timestampNs
        let previousOnLine = line == 0 ? lastLineEventNs.0 : lastLineEventNs.1
        faults.edges += 1
        if line == 0 { lastLineEventNs.0 = t } else { lastLineEventNs.1 = t }
        if previousOnLine != Int64.min && t - previousOnLine < settings.minPulseNs {
            // A glitch: its two toggles cancel, so its first one is taken back out of the run.
            faults.glitches += 1
            if line == runLine && runLength > 0 {
                runLength -= 1
                fastRunLength = undoFastRunLength
                runLastNs = undoRunLastNs
                // A second glitch toggle in a row (overlapping glitches) can only shorten the run more.
                undoFastRunLength = max(fastRunLength - 1, 0)
            }
        } else if line == runLine {
            undoFastRunLength = fastRunLength
            undoRunLastNs = runLastNs
            runLength += 1
            let close = runLastNs != Int64.min && t - runLastNs < settings.fastStuckIntervalNs
            fastRunLength = close ? fastRunLength + 1 : 1
            runLastNs = t
            if runLength > settings.stuckRunLength { faults.stuckRuns += 1 }
            if fastRunLength >= settings.fastStuckRunLength { faults.fastStuckRuns += 1 }
        } else {
            runLine = line
            runLength = 1
            fastRunLength = 1
            runLastNs = t
            undoFastRunLength = 0
            undoRunLastNs = Int64.min
        }
        let old = state
        state ^= UInt8(1 << line)
        var delta = quadratureStep(from: old, to: state)
        if t == lastEventNs && line != lastEventLine {
            // Both lines moved at the same instant: no direction. Undo the first half of the pair.
            faults.illegalTransitions += 1
            delta = -lastDelta
        }
        countValue += delta
        lastEventNs = t
        lastEventLine = line
        lastDelta = delta
        recordHistory(timeNs: t)
    }

    /// Compares the decoded state at the previous poll's time with the levels read then.
    @usableFromInline
    func resyncToCheckedLevels() {
        checkPending = false
        let difference = state ^ checkState
        if difference == 0 { return }
        if difference == 3 {
            faults.illegalTransitions += 1
        } else {
            faults.levelMismatches += 1
            countValue += quadratureStep(from: state, to: checkState)
        }
        state = checkState
    }

    /// Appends the edge at `timeNs` with the count after it. A time before the previous entry's (an
    /// event delivered late, behind a later one of the previous poll) is raised to it, so the ring
    /// stays in time order for `velocity`'s search.
    @usableFromInline
    func recordHistory(timeNs: Int64) {
        let previousNs = historyTimes[Self.ringIndex(historyNext - 1)]
        historyTimes[historyNext] = historyCount > 0 ? max(timeNs, previousNs) : timeNs
        historyCounts[historyNext] = countValue
        historyNext = Self.ringIndex(historyNext + 1)
        historyCount = min(historyCount + 1, Self.historyCapacity)
    }
}

/// Position of a (B << 1 | A) level pair in the x4 cycle 00 → A → AB → B → 00: Gray decoding.
@inlinable
func quadraturePhase(_ levels: UInt8) -> Int {
    Int(levels ^ (levels >> 1))
}

/// +1 or -1 for a step forward or back in the x4 cycle, 0 for no change or a two-line jump.
@inlinable
func quadratureStep(from old: UInt8, to new: UInt8) -> Int64 {
    let step = (quadraturePhase(new) - quadraturePhase(old) + 4) & 3
    return step == 1 ? 1 : (step == 3 ? -1 : 0)
}
