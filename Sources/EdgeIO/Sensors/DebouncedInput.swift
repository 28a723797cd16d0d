/// A switch input (e-stop, limit switch) whose contacts bounce: a new level counts only after it
/// has held for `debounceNs`. Edge events give the times of changes; each poll also reads the level,
/// so a lost event cannot leave the state wrong. `poll` never allocates.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class DebouncedInput<Chip: LineChip> {
    public let chip: Chip
    public let request: Chip.Request
    public let offset: UInt32
    public let debounceNs: Int64

    /// The debounced logical level (true = active; with active-low wiring, true = line low).
    @exclusivity(unchecked) public private(set) var isActive = false
    /// Accepted changes of `isActive` since the last reset.
    @exclusivity(unchecked) public private(set) var changes = 0
    /// Raw changes that did not hold for `debounceNs` (contact bounce or noise).
    @exclusivity(unchecked) public private(set) var bounces = 0

    @usableFromInline let reader: EdgeEventReader<Chip.Request>
    @exclusivity(unchecked) @usableFromInline var rawLevel = false
    @exclusivity(unchecked) @usableFromInline var rawSinceNs = Int64.min

    /// Requests `offset` as an input with both-edge detection and `flags` (bias, active-low).
    public init(chip: Chip, offset: UInt32, flags: LineFlags = [], debounceNs: Int64 = 5_000_000,
                consumer: String = "edge-ctl switch") throws(LineError) {
        self.chip = chip
        self.offset = offset
        self.debounceNs = debounceNs
        request = try chip.requestInputs([offset], flags: flags.union(.edgeBoth), consumer: consumer,
                                         eventBufferSize: 0)
        reader = EdgeEventReader(request: request)
        do {
            try reset()
        } catch {
            request.release()
            throw error
        }
    }

    /// Gives the line back.
    public func release() { request.release() }

    /// Takes the present level as settled, drops pending events, zeroes the counters.
    public func reset() throws(LineError) {
        let now = chip.nowNs()
        try reader.discardPending(nowNs: now)
        rawLevel = try request.getValue(offset)
        rawSinceNs = now - debounceNs  // settled: the next change is not a bounce
        isActive = rawLevel
        changes = 0
        bounces = 0
    }

    /// Reads events and the level; accepts the level once it has held for `debounceNs`.
    public func poll() throws(LineError) {
        let now = chip.nowNs()
        for event in try reader.read(nowNs: now) {
            if event.timestampNs - rawSinceNs < debounceNs { bounces += 1 }
            rawLevel.toggle()
            rawSinceNs = event.timestampNs
        }
        let level = try request.getValues() & 1 != 0  // the request's only line
        if level != rawLevel {
            rawLevel = level
            rawSinceNs = now
        }
        if rawLevel != isActive && now - rawSinceNs >= debounceNs {
            isActive = rawLevel
            changes += 1
        }
    }
}
