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
    /// failed. A one-line-stuck pattern (`QuadratureFaults.stuckRuns`) under such an action counts too.
    /// `stuckAfterNs` nil turns the unchanged-count check off, for a plant that can hold still under
    /// a drive (a pendulum held against gravity); the one-line-stuck check stays.
    public var stuckActionThreshold: Float
    public var stuckAfterNs: Int64?
    /// Sensor errors (glitches, illegal transitions, lost edges of every encoder) are a fault only
    /// above a rate: more than `maxSensorErrorsPerWindow` within any `sensorErrorWindowNs`. Single
    /// errors happen on healthy wiring (FirmwareSim's decoder sees about 1 in 20,000 steps).
    public var sensorErrorWindowNs: Int64
    public var maxSensorErrorsPerWindow: Int
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
        maxOverflowStepsPerWindow = 0
        maxLateEventStepsPerWindow = 0
    }

    /// Action dimensions.
    public var actionCount: Int { actionLow.count }
}
