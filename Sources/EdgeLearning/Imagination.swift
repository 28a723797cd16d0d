import EdgeCore

/// Imagined experience for PPO: `count` rollouts of `horizon` steps, one rollout per lane, stored
/// step-major as plain numbers (no link back to the model that produced them).
///
/// Layout (lanes = count rounded up to 16; lanes from `count` on are never valid):
///   observations [horizon + 1][Obs][lanes]  raw units; step 0 holds the start states
///   actions      [horizon][Act][lanes]      normalized, unclipped policy samples u
///   logProbs     [horizon][lanes]           log π_old(u | s) at sampling time
///   rewards      [horizon][lanes]           rewardScale · (r − disagreementPenalty · disagreement)
///   values       [horizon + 1][lanes]       V(s_t); row `horizon` is the bootstrap value
///   valid        [horizon][lanes]           1 while the rollout runs, 0 after it was cut
///   advantages, returns [horizon][lanes]    written by `PPO.update` (GAE)
public final class ImaginedRollouts<let Obs: Int, let Act: Int> {
    /// Rollouts (lanes in use).
    public let count: Int
    /// Lanes of every buffer: `count` rounded up to a multiple of 16.
    public let lanes: Int
    /// Steps per rollout.
    public let horizon: Int
    public let observations, actions, logProbs, rewards, values, valid, advantages, returns: UnsafeMutablePointer<Float>

    /// Buffers for `count` rollouts of `horizon` steps, all zero.
    public init(count: Int, horizon: Int) {
        precondition(count > 0 && horizon > 0, "need at least one rollout and one step")
        self.count = count
        self.horizon = horizon
        lanes = paddedToLanes(count)
        observations = allocateFloats((horizon + 1) * Obs * lanes)
        actions = allocateFloats(horizon * Act * lanes)
        logProbs = allocateFloats(horizon * lanes)
        rewards = allocateFloats(horizon * lanes)
        values = allocateFloats((horizon + 1) * lanes)
        valid = allocateFloats(horizon * lanes)
        advantages = allocateFloats(horizon * lanes)
        returns = allocateFloats(horizon * lanes)
    }

    deinit {
        for p in [observations, actions, logProbs, rewards, values, valid, advantages, returns] { p.deallocate() }
    }

    /// The start states, observations at step 0: [Obs][lanes], to be filled before `Imagination.run`
    /// with real states, e.g. by `TransitionBuffer.sample(count: count, lanes: lanes, rng:, obs:)`.
    @inlinable public var startObservations: UnsafeMutablePointer<Float> { observations }
}

/// Branched imagination (DESIGN.md section 4): rollouts start from real states of the dataset and run
/// `horizon` steps of the current stochastic policy through a learned (or known) `WorldModel`, all
/// rollouts at once as lanes. The world model picks an ensemble member per lane and step, samples its
/// Gaussian and keeps imagined states inside the data's range (`LearnedWorldModel` clips them to the
/// fitted range ± `models.imaginedStateMargin`, the prototype's ±5%).
///
/// Horizon. The default H = 25 is the prototype's measurement on the pendulum: with H = 10 the swing-up
/// failed, because the value bootstrap at the cut could not bridge the many steps of pumping before any
/// reward improves; H = 25 to 200 worked, 25-50 best (longer rollouts compound model error).
///
/// Model error. Where the ensemble's disagreement at a step exceeds `disagreementThreshold` the step
/// is dropped and its rollout ends: the previous step bootstraps from the value of the state it
/// reached, and PPO never trains on the dropped step. A non-finite prediction ends a rollout the same
/// way. `disagreementPenalty` instead (or also) lowers the reward by penalty × disagreement.
///
/// All memory is allocated in `init`; `run` allocates nothing (provided the model's `step` does not).
/// Not thread-safe.
public final class Imagination<Model: WorldModel, let Obs: Int, let Act: Int> {
    public let model: Model
    public let hyperparameters: Hyperparameters
    /// The latest rollouts (overwritten by each `run`).
    public let rollouts: ImaginedRollouts<Obs, Act>

    @usableFromInline let input: UnsafeMutablePointer<Float>         // [Obs][lanes] scaled observations
    @usableFromInline let plantAction: UnsafeMutablePointer<Float>   // [Act][lanes]
    @usableFromInline let reward: UnsafeMutablePointer<Float>        // [lanes] raw
    @usableFromInline let disagreement: UnsafeMutablePointer<Float>  // [lanes]
    @usableFromInline let alive: UnsafeMutablePointer<Bool>          // [lanes]

    /// Imagination through `model` with `hyperparameters.rollouts` rollouts of `horizon` steps.
    public init(model: Model, hyperparameters: Hyperparameters) {
        precondition(model.observationCount == Obs && model.actionCount == Act,
                     "world model sizes differ from the policy's observation and action sizes")
        let rollouts = ImaginedRollouts<Obs, Act>(count: hyperparameters.rollouts, horizon: hyperparameters.horizon)
        precondition(rollouts.lanes <= model.maxLanes,
                     "rollouts exceed the world model's maxLanes; raise models.maxLanes or lower rollouts")
        self.model = model
        self.hyperparameters = hyperparameters
        self.rollouts = rollouts
        let lanes = rollouts.lanes
        input = allocateFloats(Obs * lanes)
        plantAction = allocateFloats(Act * lanes)
        reward = allocateFloats(lanes)
        disagreement = allocateFloats(lanes)
        alive = .allocate(capacity: lanes)
    }

    deinit {
        input.deallocate(); plantAction.deallocate(); reward.deallocate(); disagreement.deallocate()
        alive.deallocate()
    }

    /// Runs every rollout from `rollouts.startObservations` for `horizon` steps under `policy`,
    /// recording observations, actions, log-probabilities, scaled rewards, values (including the
    /// bootstrap row) and validity. O(horizon · (policy + value + model) · lanes); no allocation.
    @inlinable
    public func run(policy: GaussianPolicy<Obs, Act>, value: ValueFunction<Obs>,
                    rng: inout RandomSource) -> ImaginationReport {
        let r = rollouts, lanes = r.lanes, h = hyperparameters
        precondition(lanes <= policy.maxLanes && lanes <= value.maxLanes, "rollouts exceed the networks' maxLanes")
        let threshold = h.disagreementThreshold, penalty = h.disagreementPenalty, scale = h.rewardScale
        for l in 0..<lanes { alive[l] = l < r.count }
        var report = ImaginationReport()
        report.rollouts = r.count
        var returnSum: Double = 0, disagreementSum: Double = 0
        for t in 0..<r.horizon {
            let obs = r.observations + t * Obs * lanes, next = obs + Obs * lanes
            policy.scaleObservations(obs, into: input, lanes: lanes)
            (r.values + t * lanes).update(from: value.predict(input: input, lanes: lanes), count: lanes)
            let u = r.actions + t * Act * lanes
            policy.sample(input: input, count: r.count, lanes: lanes, rng: &rng, actions: u,
                          logProb: r.logProbs + t * lanes)
            policy.plantActions(u, into: plantAction, lanes: lanes)
            model.step(obs: obs, action: plantAction, lanes: lanes, rng: &rng, nextObs: next, reward: reward,
                       disagreement: disagreement)
            let rewards = r.rewards + t * lanes, valid = r.valid + t * lanes
            for l in 0..<lanes {
                var keep = alive[l] && reward[l].isFinite && disagreement[l] <= threshold
                for d in 0..<Obs where !next[d * lanes + l].isFinite { keep = false }
                if alive[l] && !keep { report.truncatedRollouts += 1 }
                alive[l] = keep
                valid[l] = keep ? 1 : 0
                rewards[l] = keep ? scale * (reward[l] - penalty * disagreement[l]) : 0
                if keep {
                    report.steps += 1
                    returnSum += Double(reward[l])
                    disagreementSum += Double(disagreement[l])
                }
            }
        }
        let last = r.observations + r.horizon * Obs * lanes
        policy.scaleObservations(last, into: input, lanes: lanes)
        (r.values + r.horizon * lanes).update(from: value.predict(input: input, lanes: lanes), count: lanes)
        report.meanReturn = Float(returnSum / Double(r.count))
        if report.steps > 0 { report.meanDisagreement = Float(disagreementSum / Double(report.steps)) }
        return report
    }
}

/// What one `Imagination.run` produced.
public struct ImaginationReport {
    /// Rollouts run.
    public var rollouts = 0
    /// Valid imagined steps (what PPO trains on).
    public var steps = 0
    /// Rollouts cut before the horizon (disagreement over the threshold or a non-finite prediction).
    public var truncatedRollouts = 0
    /// Mean over rollouts of the undiscounted sum of raw (unscaled, unpenalized) rewards of its valid steps.
    public var meanReturn: Float = 0
    /// Mean ensemble disagreement over the valid steps.
    public var meanDisagreement: Float = 0

    public init() {}

    /// One log line: "imagine rollouts=160 steps=4000 truncated=0 return=… disagreement=…".
    public var summary: String {
        "imagine rollouts=\(rollouts) steps=\(steps) truncated=\(truncatedRollouts) return="
            + formatFloat(meanReturn, digits: 5) + " disagreement=" + formatFloat(meanDisagreement, digits: 3)
    }
}
