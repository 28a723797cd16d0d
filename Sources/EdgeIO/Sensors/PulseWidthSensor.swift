/// Measures a pulse train on one input line (a PWM signal, an RC receiver, a tachometer): the last
/// complete high time and period, from edge timestamps. Each event is taken as a toggle (v1 types
/// are unreliable); the level read at each poll is checked once the events stamped before it are in.
/// `poll` never allocates.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class PulseWidthSensor<Chip: LineChip> {
    public let chip: Chip
    public let request: Chip.Request
    public let offset: UInt32
    /// No rising edge for this long means the signal stopped: then `dutyCycle` is the level (0 or 1).
    public let timeoutNs: Int64

    /// High time of the last complete pulse, ns (0 until one is seen).
    @exclusivity(unchecked) public private(set) var highNs: Int64 = 0
    /// Time between the last two rising edges, ns (0 until two are seen).
    @exclusivity(unchecked) public private(set) var periodNs: Int64 = 0
    /// Level reads that disagreed with the toggled state (an edge was lost); the sensor resynced.
    @exclusivity(unchecked) public private(set) var levelMismatches = 0

    @usableFromInline let reader: EdgeEventReader<Chip.Request>
    @exclusivity(unchecked) @usableFromInline var level = false
    @exclusivity(unchecked) @usableFromInline var lastRiseNs = Int64.min
    @exclusivity(unchecked) @usableFromInline var checkLevel = false
    @exclusivity(unchecked) @usableFromInline var checkTimeNs = Int64.min
    @exclusivity(unchecked) @usableFromInline var checkPending = false

    /// Requests `offset` as an input with both-edge detection and `flags` (bias, active-low).
    public init(chip: Chip, offset: UInt32, flags: LineFlags = [], timeoutNs: Int64 = 100_000_000,
                consumer: String = "edge-ctl pulse") throws(LineError) {
        self.chip = chip
        self.offset = offset
        self.timeoutNs = timeoutNs
        request = try chip.requestInputs([offset], flags: flags.union(.edgeBoth), consumer: consumer,
                                         eventBufferSize: 0)
        reader = EdgeEventReader(request: request)
        do {
            try reader.discardPending(nowNs: chip.nowNs())
            level = try request.getValue(offset)
        } catch {
            request.release()
            throw error
        }
    }

    /// Gives the line back.
    public func release() { request.release() }

    /// Events dropped by the kernel (v2 sequence gaps) or probably dropped (full queues).
    public var lostEventSigns: Int { reader.sequenceGaps + reader.fullQueueReads }

    /// Takes in pending edges and re-reads the level.
    public func poll() throws(LineError) {
        let now = chip.nowNs()
        for event in try reader.read(nowNs: now) {
            if checkPending && event.timestampNs > checkTimeNs { resync() }
            level.toggle()
            if level {
                if lastRiseNs != Int64.min { periodNs = event.timestampNs - lastRiseNs }
                lastRiseNs = event.timestampNs
            } else if lastRiseNs != Int64.min {
                highNs = event.timestampNs - lastRiseNs
            }
        }
        if checkPending { resync() }
        checkLevel = try request.getValue(offset)
        checkTimeNs = now
        checkPending = true
    }

    /// High time over period of the last complete cycle; the level (0 or 1) once the signal stops.
    public func dutyCycle(nowNs: Int64) -> Double {
        if periodNs <= 0 || lastRiseNs == Int64.min || nowNs - lastRiseNs > timeoutNs {
            return checkLevel ? 1 : 0
        }
        return Double(highNs) / Double(periodNs)
    }

    /// Pulses per second from the last period (0 once the signal stops).
    public func frequencyHz(nowNs: Int64) -> Double {
        if periodNs <= 0 || nowNs - lastRiseNs > timeoutNs { return 0 }
        return 1e9 / Double(periodNs)
    }

    @usableFromInline
    func resync() {
        checkPending = false
        if level != checkLevel {
            levelMismatches += 1
            level = checkLevel
        }
    }
}
