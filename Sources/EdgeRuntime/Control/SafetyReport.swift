import EdgeCore

/// Something the safety layer acted on.
public enum SafetyFault: Equatable, Sendable {
    /// The e-stop input is active.
    case eStop
    /// The step woke this late; its observation was stale.
    case lateStep(lateNs: Int64)
    /// The policy produced NaN or ±Inf in action dimension `index`.
    case nonFiniteAction(index: Int)
    /// The sensors produced NaN or ±Inf in observation `index`.
    case nonFiniteObservation(index: Int)
    /// The encoder count did not change for `steps` steps while the drive was commanded.
    case encoderStuck(steps: Int)
    /// One encoder line toggled alone (the other one stuck): back and forth faster than a shaft can
    /// reverse, or for long while the drive was commanded.
    case encoderLineStuck
    /// More than the allowed sensor errors (glitches, illegal transitions, lost edges) in one window.
    case sensorErrorRate(errors: Int, windowNs: Int64)
    /// The encoder went silent (no edge in one short window of `windowNs`) right after `edgesBefore`
    /// edges in the window before: faster than the shaft can stop, so its edges are being lost.
    case encoderSilent(edgesBefore: Int, windowNs: Int64)
    /// Sensor events were lost to a full event queue in more steps than allowed.
    case eventOverflow(steps: Int)
    /// Sensor events arrived late (interrupt latency spike) in more steps than allowed.
    case lateSensorEvents(steps: Int)

    /// Sensor faults latch: the safe action stays until `SafetyMonitor.clearFault()` (after the
    /// cause is fixed and the sensors re-homed). The others last as long as their cause.
    public var latches: Bool {
        switch self {
        case .eStop, .lateStep, .nonFiniteAction: return false
        default: return true
        }
    }

    /// One line naming the fault and what to check.
    public var description: String {
        switch self {
        case .eStop:
            return "e-stop pressed: outputs held at the safe action until it is released"
        case .lateStep(let late):
            return "step started \(formatDuration(late)) late: safe action sent (use --realtime, or a slower rate)"
        case .nonFiniteAction(let index):
            return "policy action \(index) was NaN or infinite: safe action sent, falling back to the last good policy"
        case .nonFiniteObservation(let index):
            return "observation \(index) was NaN or infinite: check the sensor configuration (counts per revolution, max speed)"
        case .encoderStuck(let steps):
            return "encoder stuck: count unchanged for \(steps) steps while the drive was on; check the encoder's wiring and supply"
        case .encoderLineStuck:
            return "encoder line stuck: only one of A/B toggles; check the other line's wire and pull-up"
        case .sensorErrorRate(let errors, let window):
            return "\(errors) encoder errors (glitches, illegal transitions, lost edges) within \(formatDuration(window)); "
                + "check for electrical noise, shielding and the pull-ups"
        case .encoderSilent(let edges, let window):
            return "encoder went silent: \(edges) edges in one \(formatDuration(window)), none in the next, faster "
                + "than the shaft can stop; its interrupts are lost (check both lines' wiring and IRQ) or the shaft jammed"
        case .eventOverflow(let steps):
            return "edge event queue overflowed in \(steps) steps: edges were lost; poll the sensors more often or lower the speed"
        case .lateSensorEvents(let steps):
            return "encoder events arrived late in \(steps) steps (interrupt latency spike): the position was stale; "
                + "check the system load, or use --realtime"
        }
    }
}

/// What the safety layer did over a run: counts of each intervention, the first fault, one line.
public struct SafetyReport: Equatable, Sendable {
    /// Steps filtered.
    public var steps = 0
    /// Steps that sent the safe action, for any reason.
    public var safeActionSteps = 0
    public var eStopSteps = 0
    /// Steps that started later than the watchdog allows.
    public var watchdogSteps = 0
    public var nonFiniteActions = 0
    /// Steps held safe by a latched sensor fault.
    public var sensorFaultSteps = 0
    /// Steps with an action clamped to the bounds.
    public var clampedSteps = 0
    /// Steps with an action slowed by the slew-rate limit.
    public var slewLimitedSteps = 0
    /// The first fault of the run and the step it happened at (nil: none).
    public var firstFault: SafetyFault? = nil
    public var firstFaultStep = 0

    public init() {}

    /// "safety: 12000 steps, 3 safe (e-stop 3, watchdog 0, NaN actions 0, sensor fault 0), 0 clamped,
    /// 41 slew-limited; first fault at step 5000: e-stop pressed: ..."
    public var summary: String {
        var line = "safety: \(steps) steps, \(safeActionSteps) safe (e-stop \(eStopSteps), watchdog \(watchdogSteps), "
        line += "NaN actions \(nonFiniteActions), sensor fault \(sensorFaultSteps)), \(clampedSteps) clamped, "
        line += "\(slewLimitedSteps) slew-limited"
        if let firstFault {
            line += "; first fault at step \(firstFaultStep): \(firstFault.description)"
        } else {
            line += "; no fault"
        }
        return line
    }
}
