import EdgeCore
import EdgeIO

/// One control step on a plant: poll the sensors, observe, run the policy, filter its action through
/// the safety layer, drive the actuators. Every buffer is allocated here, once; a step allocates
/// nothing (measured by the runtime tests with `AllocationCounter`).
///
/// The phases are public so a caller can put its own policy or logging in between:
///
///     let timing = loop.waitForDeadline()
///     try step.sense()                                        // poll + observe → step.observation
///     policy.controlAction(step.observation.baseAddress!, explore: false, rng: &rng,
///                          into: step.proposedAction)          // (or `step.run(policy:...)`)
///     let verdict = try step.actuate(lateNs: timing.lateNs)    // safety + act → step.appliedAction
///     loop.finishStep()
public final class ControlStep<Plant: PlantIO & EncoderCountReporting> {
    public let plant: Plant
    public let safety: SafetyMonitor
    /// The observation of this step (`Plant.observationSize` values), written by `sense()`.
    public let observation: UnsafeMutableBufferPointer<Float>
    /// Where the policy writes its action (`Plant.actionSize` values).
    public let proposedAction: UnsafeMutablePointer<Float>
    /// What went to the actuators this step, after the safety layer.
    public let appliedAction: UnsafeMutablePointer<Float>

    /// A step for `plant` with the safety `limits` of a loop of period `periodNs`.
    public init(plant: Plant, limits: SafetyLimits, periodNs: Int64) {
        precondition(limits.actionCount == Plant.actionSize, "safety limits need one value per plant action")
        self.plant = plant
        safety = SafetyMonitor(limits: limits, periodNs: periodNs)
        observation = .allocate(capacity: Plant.observationSize)
        observation.initialize(repeating: 0)
        proposedAction = .allocate(capacity: Plant.actionSize)
        proposedAction.initialize(repeating: 0, count: Plant.actionSize)
        appliedAction = .allocate(capacity: Plant.actionSize)
        appliedAction.update(from: safety.safeAction, count: Plant.actionSize)
    }

    deinit {
        observation.deallocate()
        proposedAction.deallocate()
        appliedAction.deallocate()
    }

    /// Polls the sensors and writes the observation.
    public func sense() throws(LineError) {
        try plant.poll()
        plant.observe(into: observation)
    }

    /// Filters `proposedAction` through the safety layer into `appliedAction` and drives the plant
    /// with it. `lateNs` is the step's wake-up lateness (the watchdog's input).
    @discardableResult
    public func actuate(lateNs: Int64) throws(LineError) -> SafetyInterventions {
        let done = safety.filter(proposed: proposedAction, observation: UnsafeBufferPointer(observation),
                                 health: plant.health, encoderCount: plant.driveEncoderCount,
                                 lateNs: lateNs, into: appliedAction)
        try plant.act(UnsafeBufferPointer(start: appliedAction, count: Plant.actionSize))
        return done
    }

    /// `sense`, the policy, `actuate`: one whole step.
    @discardableResult
    public func run<Policy: ControlPolicy>(policy: Policy, explore: Bool, rng: inout RandomSource,
                                           lateNs: Int64) throws(LineError) -> SafetyInterventions {
        try sense()
        policy.controlAction(observation.baseAddress!, explore: explore, rng: &rng, into: proposedAction)
        return try actuate(lateNs: lateNs)
    }

    /// Puts the outputs in their safe state (`plant.stop()`): on the way out of a loop, after an
    /// error, on a stop signal.
    public func stopPlant() throws(LineError) {
        appliedAction.update(from: safety.safeAction, count: Plant.actionSize)
        safety.plantStopped()
        try plant.stop()
    }
}
