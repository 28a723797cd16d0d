/// The safety parameters of one plant. Actions are in the plant's units (for the rigs: [-1, 1] of
/// the drive); times are in nanoseconds of the plant's clock, so the same limits hold at any loop rate.
public struct SafetyLimits: Equatable, Sendable {
    /// Lowest and highest action per dimension: actions outside are clamped.
    public var actionLow: [Float]
    public var actionHigh: [Float]
    /// Largest change of each action per second (slew rate); `.infinity`: no limit. Going to the
    /// safe action is never slowed; coming back from it is.
    public var maxActionRatePerSecond: [Float]
    /// What goes out when anything is wrong (the rigs: 0, motor off).
    public var safeAction: [Float]
    /// A step that starts this late (wake-up lateness) sends the safe action: its observation is
    /// stale. nil: one control period.
    public var watchdogLateNs: Int64?
    /// Stuck encoder: the shaft must move when an action of at least this size (any dimension) has
    /// been applied for `stuckAfterNs`; an unchanged encoder count means the encoder (or its wiring)
    /// failed. A long one-line run (`QuadratureFaults.stuckRuns`) under such an action is a stuck line;
    /// a fast one (`fastStuckRuns`: reversals faster than a shaft reverses) is one with or without a drive.
    /// `stuckAfterNs` nil turns the unchanged-count check off, for a plant that can hold still under
    /// a drive (a pendulum held against gravity); the one-line-stuck check stays.
    public var stuckActionThreshold: Float
    public var stuckAfterNs: Int64?
    /// Sensor errors (glitches, illegal transitions, lost edges of every encoder) are a fault only
    /// above a rate: more than `maxSensorErrorsPerWindow` within any `sensorErrorWindowNs`. Single
    /// errors happen on healthy wiring (FirmwareSim's decoder sees about 1 in 20,000 steps).
    public var sensorErrorWindowNs: Int64
    public var maxSensorErrorsPerWindow: Int
    /// Lost edges, judged on a short window (`lostEdgeWindowNs`, rounded down to whole control periods,
    /// at least one): more than `maxLostEdgesPerShortWindow` pieces of physical evidence of a lost edge
    /// (`QuadratureFaults.lostEdgeEvidence`: a level read that disagrees with the decoded state, a
    /// two-line jump; at most one per sensor poll) that are also more than `maxLostEdgeFraction` of the
    /// window's edges (events taken in plus edges lost) is a `sensorErrorRate` fault. Healthy wiring
    /// on FirmwareSim showed at most 1 per window (1 in 250,000 fault-free motor steps, at a re-homing
    /// while the shaft spun; 0 in 200,000 pendulum steps); a dead interrupt loses every edge and shows
    /// at nearly every 1 ms poll, so 3 within 10 ms acts in the first control period. The fraction
    /// keeps a fast encoder with rare single losses (real interrupts are missed now and then) from
    /// tripping it on a coincidence; those go to the long window above.
    public var lostEdgeWindowNs: Int64
    public var maxLostEdgesPerShortWindow: Int
    public var maxLostEdgeFraction: Double
    /// Sudden silence: a short window with no encoder edge at all, right after a short window with at
    /// least this many edges, is an `encoderSilent` fault (unless a limit switch or the e-stop is
    /// active). A shaft that turns fast cannot stop dead; its interrupts can. This catches every edge
    /// lost at a speed where the level reads alias (a whole number of x4 cycles between polls: the motor
    /// rig at about 524 rad/s), which leaves no level evidence. Set it above the most edges the plant
    /// can make in one window and still stop before its next edge (see `MotorPlant.safetyLimits`; the
    /// pendulum leaves it off: below its 8 rad/s limit its level reads cannot alias); nil (the
    /// default): off, for a plant that can hit a hard stop or be braked hard.
    public var silenceAfterEdges: Int?
    /// Steps with an event-queue overflow (full queue read or v2 sequence gap) tolerated within one
    /// window; beyond, the position is no longer trusted. Default 0: the first overflow is a fault.
    public var maxOverflowStepsPerWindow: Int
    /// Steps in which encoder events arrived late (`QuadratureFaults.lateEvents`: stamped more than the
    /// sensors' tolerance before the previous poll, an interrupt latency spike) tolerated within one
    /// window; beyond, the observation the policy acts on is stale. Default 0: the first is a fault.
    public var maxLateEventStepsPerWindow: Int

    /// The same limits for every one of `actionCount` action dimensions.
    public init(actionCount: Int, low: Float = -1, high: Float = 1, maxRatePerSecond: Float = .infinity,
                safeAction: Float = 0) {
        precondition(actionCount > 0 && low < high && low <= safeAction && safeAction <= high,
                     "safety limits need low < high and the safe action within them")
        actionLow = [Float](repeating: low, count: actionCount)
        actionHigh = [Float](repeating: high, count: actionCount)
        maxActionRatePerSecond = [Float](repeating: maxRatePerSecond, count: actionCount)
        self.safeAction = [Float](repeating: safeAction, count: actionCount)
        watchdogLateNs = nil
        stuckActionThreshold = 0.3
        stuckAfterNs = 200_000_000
        sensorErrorWindowNs = 1_000_000_000
        maxSensorErrorsPerWindow = 20
        lostEdgeWindowNs = 10_000_000
        maxLostEdgesPerShortWindow = 2
        maxLostEdgeFraction = 0.1
        silenceAfterEdges = nil
        maxOverflowStepsPerWindow = 0
        maxLateEventStepsPerWindow = 0
    }

    /// Action dimensions.
    public var actionCount: Int { actionLow.count }
}
