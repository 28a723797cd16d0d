import EdgeIO

/// What the safety layer did to one step's action.
public struct SafetyInterventions: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The e-stop is active: safe action.
    public static let eStop = SafetyInterventions(rawValue: 1 << 0)
    /// A sensor fault is latched: safe action.
    public static let sensorFault = SafetyInterventions(rawValue: 1 << 1)
    /// The step started later than the watchdog allows: safe action.
    public static let watchdog = SafetyInterventions(rawValue: 1 << 2)
    /// The policy's action had NaN or Inf: safe action; fall back to the last good policy.
    public static let nonFiniteAction = SafetyInterventions(rawValue: 1 << 3)
    /// Clamped to the action bounds.
    public static let clamped = SafetyInterventions(rawValue: 1 << 4)
    /// Slowed by the slew-rate limit.
    public static let slewLimited = SafetyInterventions(rawValue: 1 << 5)

    /// The safe action went out.
    @inlinable public var usedSafeAction: Bool { !isDisjoint(with: [.eStop, .sensorFault, .watchdog, .nonFiniteAction]) }
    /// The caller should switch to the last good policy.
    @inlinable public var policyFault: Bool { contains(.nonFiniteAction) }
}

/// The last stage before the actuators: decides the action that goes out each step from the policy's
/// proposal, the sensor layer's health and the step's timing.
///
/// In order of precedence: a latched sensor fault, an active e-stop, a late step (watchdog) or a
/// non-finite proposal sends the safe action; otherwise the proposal is clamped to the bounds and
/// then slew-rate limited against the last action sent. NaN and Inf never get through (a NaN
/// observation is a latched sensor fault; a NaN action is caught before clamping, which would let
/// it through). Sensor faults are judged on rates and runs, not single counts (see `SafetyLimits`).
///
/// One instance per plant, used by the control thread only. `filter` is O(actions + observations)
/// and never allocates.
public final class SafetyMonitor {
    public let limits: SafetyLimits
    public let periodNs: Int64
    public let actionCount: Int
    /// The action sent when anything is wrong.
    public let safeAction: UnsafeMutablePointer<Float>
    /// The action sent last step (the safe action before the first).
    public let lastAction: UnsafeMutablePointer<Float>
    /// Counts of every intervention and the first fault.
    @exclusivity(unchecked) public private(set) var report = SafetyReport()
    /// The latched sensor fault, if any.
    @exclusivity(unchecked) public private(set) var latchedFault: SafetyFault? = nil

    let low, high, maxStep: UnsafeMutablePointer<Float>
    let watchdogLateNs: Int64
    let stuckSteps: Int
    let windowSteps: Int
    /// Over `windowSteps`: steps with new overflow signs, steps with late events, sensor errors.
    let window: SlidingSums
    let shortWindowSteps: Int
    /// Over `shortWindowSteps`: lost-edge evidence, edges, and the edges of the short window before
    /// (fed with the edges that fall out of the second lane).
    let shortWindow: SlidingSums
    /// `shortWindow`'s edge lanes (edges, edges before), cleared when the sensors are re-homed.
    static let edgeLanes = SIMDMask<SIMD4<Int>>([false, true, true, false])
    @exclusivity(unchecked) var primed = false
    @exclusivity(unchecked) var previousErrors = 0
    @exclusivity(unchecked) var previousOverflowSigns = 0
    @exclusivity(unchecked) var previousLateEvents = 0
    @exclusivity(unchecked) var previousStuckRuns = 0
    @exclusivity(unchecked) var previousFastStuckRuns = 0
    @exclusivity(unchecked) var previousLost = 0
    @exclusivity(unchecked) var previousEdges = 0
    @exclusivity(unchecked) var previousCount: Int64 = 0
    @exclusivity(unchecked) var stillSteps = 0

    /// Limits for a loop of period `periodNs` (the per-second and nanosecond limits become per-step).
    /// Allocates everything it will use.
    public init(limits: SafetyLimits, periodNs: Int64) {
        let n = limits.actionCount
        precondition(limits.actionHigh.count == n && limits.maxActionRatePerSecond.count == n
                     && limits.safeAction.count == n, "every safety limit needs one value per action dimension")
        precondition(periodNs > 0, "the control period must be positive")
        self.limits = limits
        self.periodNs = periodNs
        actionCount = n
        safeAction = .allocate(capacity: n)
        lastAction = .allocate(capacity: n)
        low = .allocate(capacity: n)
        high = .allocate(capacity: n)
        maxStep = .allocate(capacity: n)
        let seconds = Float(Double(periodNs) * 1e-9)
        for d in 0..<n {
            safeAction[d] = limits.safeAction[d]
            lastAction[d] = limits.safeAction[d]
            low[d] = limits.actionLow[d]
            high[d] = limits.actionHigh[d]
            maxStep[d] = limits.maxActionRatePerSecond[d] * seconds
        }
        watchdogLateNs = limits.watchdogLateNs ?? periodNs
        stuckSteps = limits.stuckAfterNs.map { max(1, Int(($0 + periodNs - 1) / periodNs)) } ?? Int.max
        windowSteps = max(1, Int(limits.sensorErrorWindowNs / periodNs))
        window = SlidingSums(steps: windowSteps)
        shortWindowSteps = max(1, Int(limits.lostEdgeWindowNs / periodNs))
        shortWindow = SlidingSums(steps: shortWindowSteps)
    }

    deinit {
        for p in [safeAction, lastAction, low, high, maxStep] { p.deallocate() }
    }

    /// Decides this step's action into `output` (`actionCount` values) from the policy's `proposed`
    /// action, the `observation` it was computed from, the sensors' `health`, the main encoder's
    /// count (`encoderCount`, for the stuck check) and the step's wake-up lateness.
    public func filter(proposed: UnsafePointer<Float>, observation: UnsafeBufferPointer<Float>,
                       health: PlantHealth, encoderCount: Int64, lateNs: Int64,
                       into output: UnsafeMutablePointer<Float>) -> SafetyInterventions {
        report.steps += 1
        checkSensors(health: health, encoderCount: encoderCount)
        for k in 0..<observation.count where !observation[k].isFinite {
            latch(.nonFiniteObservation(index: k))
            break
        }
        var done: SafetyInterventions = []
        if latchedFault != nil {
            done = .sensorFault
            report.sensorFaultSteps += 1
        } else if health.eStopActive {
            done = .eStop
            report.eStopSteps += 1
            note(.eStop)
        } else if lateNs > watchdogLateNs {
            done = .watchdog
            report.watchdogSteps += 1
            note(.lateStep(lateNs: lateNs))
        } else if let bad = firstNonFinite(proposed) {
            done = .nonFiniteAction
            report.nonFiniteActions += 1
            note(.nonFiniteAction(index: bad))
        }
        // Element loops, not `update(from:count:)`: for one or two actions a memmove call costs more.
        if !done.isEmpty {
            for d in 0..<actionCount {
                output[d] = safeAction[d]
                lastAction[d] = safeAction[d]
            }
            report.safeActionSteps += 1
        } else {
            for d in 0..<actionCount {
                var a = proposed[d]
                if a < low[d] || a > high[d] {
                    a = min(max(a, low[d]), high[d])
                    done.insert(.clamped)
                }
                let last = lastAction[d]
                if a > last + maxStep[d] || a < last - maxStep[d] {
                    a = min(max(a, last - maxStep[d]), last + maxStep[d])
                    done.insert(.slewLimited)
                }
                output[d] = a
                lastAction[d] = a
            }
            if done.contains(.clamped) { report.clampedSteps += 1 }
            if done.contains(.slewLimited) { report.slewLimitedSteps += 1 }
        }
        return done
    }

    /// Forgets the latched fault and the sensor history (after fixing the cause and re-homing the
    /// sensors, which resets their counters). The report keeps its counts.
    public func clearFault() {
        latchedFault = nil
        primed = false
        stillSteps = 0
        window.clear(lanes: SIMDMask(repeating: true))
        shortWindow.clear(lanes: SIMDMask(repeating: true))
    }

    /// Records that the plant was stopped outside `filter` (the next actions ramp up from the safe one).
    public func plantStopped() {
        lastAction.update(from: safeAction, count: actionCount)
    }

    // MARK: Sensor checks

    func checkSensors(health: PlantHealth, encoderCount: Int64) {
        let errors = Self.errorCount(health.encoder) + Self.errorCount(health.cartEncoder)
        let overflowSigns = Self.overflowSigns(health.encoder) + Self.overflowSigns(health.cartEncoder)
        let stuckRuns = health.encoder.stuckRuns + health.cartEncoder.stuckRuns
        let fastStuckRuns = health.encoder.fastStuckRuns + health.cartEncoder.fastStuckRuns
        let lateEvents = health.encoder.lateEvents + health.cartEncoder.lateEvents
        let lost = health.encoder.lostEdgeEvidence + health.cartEncoder.lostEdgeEvidence
        let edges = health.encoder.edges + health.cartEncoder.edges
        defer {
            previousLost = lost
            previousEdges = edges
            previousErrors = errors
            previousOverflowSigns = overflowSigns
            previousLateEvents = lateEvents
            previousStuckRuns = stuckRuns
            previousFastStuckRuns = fastStuckRuns
            previousCount = encoderCount
        }
        guard primed else {
            primed = true
            return
        }
        let newOverflow = overflowSigns != previousOverflowSigns
        let newStuckRuns = stuckRuns > previousStuckRuns
        let newFastStuckRuns = fastStuckRuns > previousFastStuckRuns
        if edges < previousEdges {
            // Re-homed: the shaft's history before the reset says nothing about its speed now.
            shortWindow.clear(lanes: Self.edgeLanes)
        }
        // All window sums in two adds (lanes as in `window` and `shortWindow`), then the checks.
        let sums = window.add(SIMD4(newOverflow ? 1 : 0, lateEvents != previousLateEvents ? 1 : 0,
                                    Self.increase(errors, since: previousErrors), 0))
        let shortSums = shortWindow.add(SIMD4(Self.increase(lost, since: previousLost),
                                              Self.increase(edges, since: previousEdges),
                                              shortWindow.oldest[1], 0))

        // An overflow also shows as glitches (the burst that filled the queue): name it first.
        if sums[0] > limits.maxOverflowStepsPerWindow {
            latch(.eventOverflow(steps: sums[0]))
        }
        // Events delivered late (an interrupt latency spike): the position the policy sees is stale.
        if sums[1] > limits.maxLateEventStepsPerWindow {
            latch(.lateSensorEvents(steps: sums[1]))
        }
        if sums[2] > limits.maxSensorErrorsPerWindow {
            latch(.sensorErrorRate(errors: sums[2], windowNs: Int64(windowSteps) * periodNs))
        }
        // Lost edges: the physical evidence shows at the poll after each loss, so judge it on a short
        // window, relative to the edges seen in it.
        let shortLost = shortSums[0], shortEdges = shortSums[1]
        if shortLost > limits.maxLostEdgesPerShortWindow
            && Double(shortLost) > limits.maxLostEdgeFraction * Double(shortLost + shortEdges) {
            latch(.sensorErrorRate(errors: shortLost, windowNs: Int64(shortWindowSteps) * periodNs))
        }
        // Every edge lost at a speed where the level reads alias (a whole number of cycles between
        // polls) leaves no level evidence, only silence: a shaft that was turning fast cannot stop dead.
        if let silenceAfter = limits.silenceAfterEdges {
            let edgesBefore = shortSums[2]
            if shortEdges == 0 && edgesBefore >= silenceAfter
                && !health.limitLeftActive && !health.limitRightActive && !health.eStopActive {
                latch(.encoderSilent(edgesBefore: edgesBefore, windowNs: Int64(shortWindowSteps) * periodNs))
            }
        }

        // The shaft must move under a commanded drive, unless a limit switch is holding it.
        var driven = false
        for d in 0..<actionCount where abs(lastAction[d] - safeAction[d]) >= limits.stuckActionThreshold {
            driven = true
        }
        if health.limitLeftActive || health.limitRightActive || health.eStopActive { driven = false }
        // A long one-line run is a stuck line only under a drive (a shaft at rest can dither across
        // one edge); a fast one is impossible for any shaft, driven or not.
        if (driven && newStuckRuns) || newFastStuckRuns { latch(.encoderLineStuck) }
        if driven && encoderCount == previousCount {
            stillSteps += 1
            if stillSteps >= stuckSteps { latch(.encoderStuck(steps: stillSteps)) }
        } else {
            stillSteps = 0
        }
    }

    /// How much a sensor counter grew since the last step. Counters restart from 0 when the sensors are
    /// re-homed: a drop means "since the reset".
    @inline(__always) static func increase(_ value: Int, since previous: Int) -> Int {
        value >= previous ? value - previous : value
    }

    static func errorCount(_ faults: QuadratureFaults) -> Int {
        faults.glitches + faults.illegalTransitions + faults.levelMismatches
    }

    static func overflowSigns(_ faults: QuadratureFaults) -> Int {
        faults.fullQueueReads + faults.sequenceGaps
    }

    func latch(_ fault: SafetyFault) {
        guard latchedFault == nil else { return }
        latchedFault = fault
        note(fault)
    }

    func note(_ fault: SafetyFault) {
        if report.firstFault == nil {
            report.firstFault = fault
            report.firstFaultStep = report.steps - 1
        }
    }

    func firstNonFinite(_ action: UnsafePointer<Float>) -> Int? {
        for d in 0..<actionCount where !action[d].isFinite { return d }
        return nil
    }
}

/// Sums over the last `steps` steps of up to four counters at once: one ring of SIMD rows allocated
/// once, one `add` per step for all of them (the checks read seven sums every control step).
final class SlidingSums {
    let ring: UnsafeMutablePointer<SIMD4<Int>>
    let steps: Int
    var next = 0
    var sum = SIMD4<Int>()

    init(steps: Int) {
        self.steps = steps
        ring = .allocate(capacity: steps)
        ring.initialize(repeating: SIMD4(), count: steps)
    }

    deinit { ring.deallocate() }

    /// The values of the oldest step: what the next `add` pushes out of the window.
    var oldest: SIMD4<Int> { ring[next] }

    /// Adds this step's values and returns the sums over the window.
    @inline(__always) func add(_ values: SIMD4<Int>) -> SIMD4<Int> {
        sum &+= values &- ring[next]
        ring[next] = values
        next = next + 1 == steps ? 0 : next + 1
        return sum
    }

    /// Zeroes the counters in `lanes` over the whole window.
    func clear(lanes: SIMDMask<SIMD4<Int>>) {
        for s in 0..<steps { ring[s].replace(with: 0, where: lanes) }
        sum.replace(with: 0, where: lanes)
    }
}
