import EdgeIO

/// Which kernel interface the simulated chip reproduces.
public enum SimLineAPI: Sendable {
    /// libgpiod 1.x over the v1 uAPI: one queue of 16 events per line, read line by line,
    /// no sequence numbers.
    case v1
    /// libgpiod 2.x over the v2 uAPI: one queue per request (16 per line unless the request sets
    /// `eventBufferSize`), events numbered per line and per request.
    case v2
}

/// A simulated GPIO chip with the kernel's semantics as libgpiod sees them, on a virtual clock.
///
/// Application side (`LineChip`): requests, values and edge events, with the kernel's errors
/// (EBUSY, EPERM, EINVAL). Plant side (`drive`, `presetLevel`, `outputLevel`, `setStuck`): rigs
/// move input lines at exact virtual times and read what the application drives.
///
/// Edge events follow the kernel: the hard interrupt stamps the time (and, in v2, the sequence
/// numbers); `irqLatencyNs` later the interrupt thread reads the level to decide rising/falling
/// (so a second edge within the latency gives a wrong type) and queues the event; a full queue
/// drops the newest event. All storage is allocated at init or request time: driving, settling and
/// reading never allocate.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class SimChip: LineChip {
    public typealias Request = SimLineRequest

    public let name: String
    public let label: String
    public let lineCount: Int
    public let clock: SimClock
    public let api: SimLineAPI

    /// Delay from an edge to the interrupt thread that decides its type and queues it.
    @exclusivity(unchecked) public var irqLatencyNs: Int64 = 10_000
    /// Extra delay added to `irqLatencyNs` (a latency spike: events arrive late) while non-zero.
    @exclusivity(unchecked) public var extraLatencyNs: Int64 = 0
    /// Probability that an edge's interrupt is missed entirely (the level changes, no event).
    @exclusivity(unchecked) public var missProbability: Double = 0

    /// Events refused by full queues since the chip was created (the kernel's silent drops).
    @exclusivity(unchecked) public private(set) var overflowDrops = 0
    /// Edges whose interrupt was missed (see `missProbability`).
    @exclusivity(unchecked) public private(set) var missedEdges = 0

    struct Line {
        var level = false          // physical level on the wire
        var plantLevel = false     // what the plant drives; differs from `level` while stuck
        var driven = false         // driven by a plant or loopback, so bias does not apply
        var stuck = false
        var request = -1           // owning request slot, or -1
        var queueIndex = 0         // which of the request's queues gets this line's events
        var isOutput = false
        var activeLow = false
        var edgeRising = false
        var edgeFalling = false
        var lineSequence: UInt64 = 0
        var loopbackInput = -1     // input offset this output drives, or -1
        var pendingHead = 0
        var pendingCount = 0
        var lastDeliverNs = Int64.min
    }

    /// An edge between its interrupt and its interrupt thread.
    struct PendingEdge {
        var timestampNs: Int64
        var deliverNs: Int64
        var lineSequence: UInt64
        var globalSequence: UInt64
        var fixedType: Int8  // 1 rising, 0 falling, -1 decided late from the level
    }

    struct RequestSlot {
        var active = false
        /// Bumped each time the slot is reused, so a released handle cannot reach the new request.
        var generation = 0
        var offsets: [UInt32] = []
        var isOutput = false
        var consumer = ""
        var globalSequence: UInt64 = 0
        var queues: [SimEventQueue] = []
    }

    @exclusivity(unchecked) var lines: [Line]
    @exclusivity(unchecked) var slots: [RequestSlot] = []
    /// Offsets with edge detection on: the only lines that can have pending edges.
    @exclusivity(unchecked) var edgeLines: [Int] = []
    /// Edges one line can have between interrupt and interrupt thread (a power of two: ring indices wrap
    /// with a mask, not a division).
    static let pendingCapacity = 64
    let pending: UnsafeMutablePointer<PendingEdge>
    @exclusivity(unchecked) var pendingTotal = 0
    @exclusivity(unchecked) var lastDriveNs = Int64.min
    @exclusivity(unchecked) var lastLevelReadNs = Int64.min
    @exclusivity(unchecked) var random: SimRandom

    /// A chip with `lineCount` lines, all low and free. `seed` drives missed-edge faults.
    public init(label: String = "edge-sim", lineCount: Int = 54, api: SimLineAPI = .v2,
                clock: SimClock = SimClock(), seed: UInt64 = 1) {
        self.name = label
        self.label = label
        self.lineCount = lineCount
        self.api = api
        self.clock = clock
        lines = [Line](repeating: Line(), count: lineCount)
        pending = .allocate(capacity: lineCount * Self.pendingCapacity)
        pending.initialize(repeating: PendingEdge(timestampNs: 0, deliverNs: Int64.max, lineSequence: 0,
                                                  globalSequence: 0, fixedType: -1),
                           count: lineCount * Self.pendingCapacity)
        random = SimRandom(seed: seed)
    }

    deinit { pending.deallocate() }

    // MARK: LineChip

    public func nowNs() -> Int64 { clock.nowNs }

    public func requestInputs(_ offsets: [UInt32], flags: LineFlags, consumer: String,
                              eventBufferSize: Int) throws(LineError) -> SimLineRequest {
        try validate(offsets, flags: flags, forOutput: false)
        let slot = openSlot(offsets, isOutput: false, consumer: consumer)
        let edges = !flags.intersection(.edgeBoth).isEmpty
        if edges {
            switch api {
            case .v1:
                slots[slot].queues = offsets.map { _ in SimEventQueue(capacity: 16) }
            case .v2:
                let size = eventBufferSize > 0 ? eventBufferSize : 16 * offsets.count
                slots[slot].queues = [SimEventQueue(capacity: roundedUpToPowerOfTwo(min(size, 1024)))]
            }
        }
        for (index, offset) in offsets.enumerated() {
            let o = Int(offset)
            lines[o].request = slot
            lines[o].isOutput = false
            lines[o].activeLow = flags.contains(.activeLow)
            lines[o].edgeRising = flags.contains(.edgeRising)
            lines[o].edgeFalling = flags.contains(.edgeFalling)
            lines[o].queueIndex = api == .v1 ? index : 0
            lines[o].pendingCount = 0
            if !lines[o].driven {
                if flags.contains(.biasPullUp) { lines[o].level = true }
                if flags.contains(.biasPullDown) { lines[o].level = false }
            }
            if edges { edgeLines.append(o) }
        }
        return SimLineRequest(chip: self, slot: slot, generation: slots[slot].generation, offsets: offsets)
    }

    public func requestOutputs(_ offsets: [UInt32], defaults: [Bool], flags: LineFlags,
                               consumer: String) throws(LineError) -> SimLineRequest {
        if defaults.count != offsets.count, let first = offsets.first {
            throw .invalidFlags(chip: label, offset: first, reason: "give one default value per line")
        }
        try validate(offsets, flags: flags, forOutput: true)
        let slot = openSlot(offsets, isOutput: true, consumer: consumer)
        for (index, offset) in offsets.enumerated() {
            let o = Int(offset)
            lines[o].request = slot
            lines[o].isOutput = true
            lines[o].activeLow = flags.contains(.activeLow)
            lines[o].edgeRising = false
            lines[o].edgeFalling = false
            setPhysical(o, defaults[index] != lines[o].activeLow)
        }
        return SimLineRequest(chip: self, slot: slot, generation: slots[slot].generation, offsets: offsets)
    }

    /// Nothing to free: the simulated chip lives as long as its owner.
    public func close() {}

    // MARK: Plant side

    /// The plant moves input `offset` to `level` at virtual time `timeNs`. Calls must come in time
    /// order across all lines of the chip. Queues an event if the line watches that edge (unless the
    /// interrupt is missed); a stuck line keeps its level and only remembers the driven one.
    ///
    /// Causality: an edge stamped at or before the last level read, but driven after it, is moved to
    /// 1 ns after that read (the application saw the old level, so the edge came later).
    public func drive(_ offset: UInt32, to level: Bool, atNs requestedNs: Int64) {
        let o = Int(offset)
        let timeNs = requestedNs <= lastLevelReadNs ? lastLevelReadNs + 1 : requestedNs
        precondition(timeNs >= lastDriveNs, "SimChip.drive: edges must come in time order")
        lastDriveNs = timeNs
        lines[o].plantLevel = level
        lines[o].driven = true
        if lines[o].stuck || lines[o].level == level { return }
        finalizePending(upTo: timeNs, inclusive: false)
        lines[o].level = level
        recordEdge(o, atNs: timeNs)
    }

    /// Flips input `offset` at `timeNs` (a glitch is two flips).
    @inlinable
    public func toggle(_ offset: UInt32, atNs timeNs: Int64) {
        drive(offset, to: !plantLevel(offset), atNs: timeNs)
    }

    /// Sets an input's level without an edge (wiring at reset). Pending and queued events stay.
    public func presetLevel(_ offset: UInt32, _ level: Bool) {
        let o = Int(offset)
        lines[o].plantLevel = level
        lines[o].driven = true
        if !lines[o].stuck { lines[o].level = level }
    }

    /// The level the plant last drove on `offset` (what the wire would show without a stuck fault).
    public func plantLevel(_ offset: UInt32) -> Bool { lines[Int(offset)].plantLevel }

    /// The physical level on `offset` (what an application output drives, after active-low).
    public func outputLevel(_ offset: UInt32) -> Bool { lines[Int(offset)].level }

    /// Sticks `offset` at its present level (a broken wire), or frees it: the line then jumps to the
    /// level the plant drives, with an edge at `timeNs` if they differ.
    public func setStuck(_ offset: UInt32, _ stuck: Bool, atNs timeNs: Int64) {
        let o = Int(offset)
        guard lines[o].stuck != stuck else { return }
        lines[o].stuck = stuck
        if !stuck { drive(offset, to: lines[o].plantLevel, atNs: max(timeNs, lastDriveNs)) }
    }

    /// Wires output `output` to input `input`: setting the output drives the input at the current
    /// virtual time (a loopback jumper, used to test software PWM against the pulse-width sensor).
    public func connect(output: UInt32, toInput input: UInt32) {
        lines[Int(output)].loopbackInput = Int(input)
    }

    /// Runs the interrupt threads due by now: decides the types of pending edges and queues them.
    public func settle() {
        finalizePending(upTo: clock.nowNs, inclusive: true)
    }

    /// Whether the application holds `offset`.
    public func isRequested(_ offset: UInt32) -> Bool { lines[Int(offset)].request >= 0 }

    // MARK: Requests (called through SimLineRequest)

    func value(slot: Int, generation: Int, offset: UInt32) throws(LineError) -> Bool {
        let o = try owned(slot: slot, generation: generation, offset: offset)
        lastLevelReadNs = clock.nowNs
        return lines[o].level != lines[o].activeLow
    }

    func values(slot: Int, generation: Int, firstOffset: UInt32) throws(LineError) -> UInt64 {
        guard isLive(slot, generation) else { throw .lineNotRequested(chip: label, offset: firstOffset) }
        lastLevelReadNs = clock.nowNs
        var bits: UInt64 = 0
        var k: UInt64 = 0
        for offset in slots[slot].offsets {
            let line = lines[Int(offset)]
            bits |= (line.level != line.activeLow ? 1 : 0) << k
            k += 1
        }
        return bits
    }

    func setValue(slot: Int, generation: Int, offset: UInt32, _ value: Bool) throws(LineError) {
        let o = try owned(slot: slot, generation: generation, offset: offset)
        guard slots[slot].isOutput else { throw .setOnInput(chip: label, offset: offset) }
        setPhysical(o, value != lines[o].activeLow)
    }

    func hasEvents(slot: Int, generation: Int) -> Bool {
        settle()
        guard isLive(slot, generation) else { return false }
        for queue in slots[slot].queues where queue.count > 0 { return true }
        return false
    }

    func readEvents(slot: Int, generation: Int, into buffer: UnsafeMutableBufferPointer<EdgeEvent>) -> Int {
        settle()
        guard isLive(slot, generation) else { return 0 }
        var n = 0
        for queue in slots[slot].queues {
            while queue.count > 0 && n < buffer.count {
                buffer[n] = queue.pop()
                n += 1
            }
        }
        return n
    }

    func release(slot: Int, generation: Int) {
        guard isLive(slot, generation) else { return }
        for offset in slots[slot].offsets {
            let o = Int(offset)
            pendingTotal -= lines[o].pendingCount
            lines[o].pendingCount = 0
            lines[o].request = -1
            lines[o].isOutput = false
            lines[o].edgeRising = false
            lines[o].edgeFalling = false
        }
        edgeLines.removeAll { lines[$0].request < 0 }
        slots[slot].active = false
        slots[slot].queues = []
    }

    func isLive(_ slot: Int, _ generation: Int) -> Bool {
        slots[slot].active && slots[slot].generation == generation
    }

    // MARK: Internals

    private func validate(_ offsets: [UInt32], flags: LineFlags, forOutput: Bool) throws(LineError) {
        if let reason = requestSizeProblem(lineCount: offsets.count) {
            throw .invalidFlags(chip: label, offset: offsets.first ?? 0, reason: reason)
        }
        let first = offsets[0]
        for offset in offsets where Int(offset) >= lineCount {
            throw .offsetOutOfRange(chip: label, offset: offset, lineCount: lineCount)
        }
        if let reason = flags.invalidReason(forOutput: forOutput) {
            throw .invalidFlags(chip: label, offset: first, reason: reason)
        }
        for (index, offset) in offsets.enumerated() {
            let holder = lines[Int(offset)].request
            if holder >= 0 {
                throw .lineBusy(chip: label, offset: offset, consumer: slots[holder].consumer)
            }
            if offsets[..<index].contains(offset) {
                throw .lineBusy(chip: label, offset: offset, consumer: "this request")
            }
        }
    }

    private func openSlot(_ offsets: [UInt32], isOutput: Bool, consumer: String) -> Int {
        var slot = RequestSlot()
        slot.active = true
        slot.offsets = offsets
        slot.isOutput = isOutput
        slot.consumer = consumer
        if let free = slots.firstIndex(where: { !$0.active }) {
            slot.generation = slots[free].generation + 1
            slots[free] = slot
            return free
        }
        slots.append(slot)
        return slots.count - 1
    }

    private func owned(slot: Int, generation: Int, offset: UInt32) throws(LineError) -> Int {
        let o = Int(offset)
        guard o < lineCount, isLive(slot, generation), lines[o].request == slot else {
            throw .lineNotRequested(chip: label, offset: offset)
        }
        return o
    }

    /// An output changes its physical level now; a loopback jumper carries it to its input.
    private func setPhysical(_ o: Int, _ level: Bool) {
        lines[o].level = level
        lines[o].plantLevel = level
        let input = lines[o].loopbackInput
        if input >= 0 { drive(UInt32(input), to: level, atNs: max(clock.nowNs, lastDriveNs)) }
    }

    /// The hard interrupt for an edge that just happened on input `o`.
    private func recordEdge(_ o: Int, atNs timeNs: Int64) {
        let line = lines[o]
        guard line.request >= 0, line.edgeRising || line.edgeFalling else { return }
        let rising = line.level != line.activeLow
        guard rising ? line.edgeRising : line.edgeFalling else { return }
        if missProbability > 0 && random.unit() < missProbability {
            missedEdges += 1
            return
        }
        var lineSequence: UInt64 = 0
        var globalSequence: UInt64 = 0
        if api == .v2 {
            lines[o].lineSequence += 1
            slots[line.request].globalSequence += 1
            lineSequence = lines[o].lineSequence
            globalSequence = slots[line.request].globalSequence
        }
        if lines[o].pendingCount == Self.pendingCapacity { finalizeHead(of: o) }
        let deliverNs = max(timeNs + irqLatencyNs + extraLatencyNs, line.lastDeliverNs)
        lines[o].lastDeliverNs = deliverNs
        let bothEdges = line.edgeRising && line.edgeFalling
        let slot = o * Self.pendingCapacity + (line.pendingHead + lines[o].pendingCount) & (Self.pendingCapacity - 1)
        pending[slot] = PendingEdge(timestampNs: timeNs, deliverNs: deliverNs, lineSequence: lineSequence,
                                    globalSequence: globalSequence,
                                    fixedType: bothEdges ? -1 : (rising ? 1 : 0))
        lines[o].pendingCount += 1
        pendingTotal += 1
    }

    /// Runs interrupt threads in delivery order, up to `timeNs` (inclusive or not).
    private func finalizePending(upTo timeNs: Int64, inclusive: Bool) {
        while pendingTotal > 0 {
            // Selects, not branches: which line delivers next is as random as the shaft's edges.
            var best = -1
            var bestNs = Int64.max
            for o in edgeLines {
                let head = pending[o * Self.pendingCapacity + lines[o].pendingHead].deliverNs
                let deliverNs = lines[o].pendingCount > 0 ? head : Int64.max
                best = deliverNs < bestNs ? o : best
                bestNs = min(deliverNs, bestNs)
            }
            if best < 0 || bestNs > timeNs || (!inclusive && bestNs == timeNs) { return }
            finalizeHead(of: best)
        }
    }

    /// The interrupt thread for the oldest pending edge of `o`: type from the level now, then queue.
    private func finalizeHead(of o: Int) {
        let edge = pending[o * Self.pendingCapacity + lines[o].pendingHead]
        lines[o].pendingHead = (lines[o].pendingHead + 1) & (Self.pendingCapacity - 1)
        lines[o].pendingCount -= 1
        pendingTotal -= 1
        let rising = edge.fixedType < 0 ? (lines[o].level != lines[o].activeLow) : edge.fixedType == 1
        let queue = slots[lines[o].request].queues[lines[o].queueIndex]
        let before = queue.dropped
        queue.push(EdgeEvent(offset: UInt32(o), isRising: rising, timestampNs: edge.timestampNs,
                             lineSequence: edge.lineSequence, globalSequence: edge.globalSequence))
        overflowDrops += queue.dropped - before
    }
}

/// Smallest power of two >= n (the kernel's kfifo rounds its size up like this).
func roundedUpToPowerOfTwo(_ n: Int) -> Int {
    var size = 1
    while size < n { size <<= 1 }
    return size
}

/// A request on a `SimChip`. Copies refer to the same request.
public struct SimLineRequest: LineRequest {
    public let chip: SimChip
    let slot: Int
    let generation: Int
    public let offsets: [UInt32]

    public func getValue(_ offset: UInt32) throws(LineError) -> Bool {
        try chip.value(slot: slot, generation: generation, offset: offset)
    }

    public func getValues() throws(LineError) -> UInt64 {
        try chip.values(slot: slot, generation: generation, firstOffset: offsets[0])
    }

    public func setValue(_ offset: UInt32, _ value: Bool) throws(LineError) {
        try chip.setValue(slot: slot, generation: generation, offset: offset, value)
    }

    /// Never blocks: virtual time moves only when the rig advances it. Returns whether events are pending now.
    public func waitEvents(timeoutNs: Int64) throws(LineError) -> Bool {
        chip.hasEvents(slot: slot, generation: generation)
    }

    public func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(LineError) -> Int {
        chip.readEvents(slot: slot, generation: generation, into: buffer)
    }

    public func release() {
        chip.release(slot: slot, generation: generation)
    }
}
