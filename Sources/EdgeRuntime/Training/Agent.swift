import CEdgeSys
import EdgeCore
import EdgeLearning

/// What one round of learning did and how long each part took.
public struct ImprovementReport {
    public var dynamicsFit = FitReport()
    public var rewardFit: FitReport? = nil
    public var imagination = ImaginationReport()
    public var ppo = PPOReport()
    /// Mean undiscounted return per imagined rollout (raw reward units), averaged over the PPO iterations.
    public var imaginedReturn: Float = 0
    public var fitSeconds: Double = 0
    public var imaginationSeconds: Double = 0
    public var ppoSeconds: Double = 0
    public init() {}
}

/// Everything learned about one plant: real transitions, the dynamics ensemble f_ψ, the reward model
/// r_φ (or a known reward), the Gaussian policy π_θ with its value function, and PPO over imagined
/// rollouts. Shapes are type parameters: ObsAct = Obs + Act and Obs2 = 2 · Obs (checked at init;
/// Swift's integer generics cannot add).
///
/// The policy optimizer reaches the models only through `WorldModel` (forward passes), so no
/// gradient of the policy loss can flow into f_ψ or r_φ.
public final class Agent<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction> {
    public typealias World = LearnedWorldModel<Obs, Act, ObsAct, Obs2, Reward>

    public let hyperparameters: Hyperparameters
    public let buffer: TransitionBuffer<Obs, Act>
    public let dynamics: DynamicsEnsemble<Obs, Act, ObsAct, Obs2>
    /// The learned reward model; nil when a known reward function is used.
    public let rewardModel: RewardModel<Obs, Act, ObsAct>?
    public let world: World
    public let ppo: PPO<Obs, Act>
    public let imagination: Imagination<World, Obs, Act>
    /// Scratch for one observation, action and next observation of the control loop.
    let scratch: UnsafeMutablePointer<Float>

    /// - Parameters:
    ///   - reward: the reward the world model imagines with (a `RewardModel` to learn it, or a known one).
    ///   - learnedReward: the same object when it is a `RewardModel` that `improve` must fit.
    /// - Parameter window: keep only the newest `window` real transitions for learning (nil: all).
    public init(observationBounds: [Float], hyperparameters: Hyperparameters, capacity: Int, window: Int? = nil,
                reward: Reward, learnedReward: RewardModel<Obs, Act, ObsAct>?, rng: inout RandomSource) {
        precondition(ObsAct == Obs + Act && Obs2 == 2 * Obs, "agent shapes: ObsAct = Obs + Act, Obs2 = 2 Obs")
        self.hyperparameters = hyperparameters
        buffer = TransitionBuffer(capacity: capacity, window: window)
        dynamics = DynamicsEnsemble(hyperparameters: hyperparameters.models, rng: &rng)
        rewardModel = learnedReward
        world = World(dynamics: dynamics, reward: reward)
        let low = [Float](repeating: -1, count: Act), high = [Float](repeating: 1, count: Act)
        ppo = PPO(observationBounds: observationBounds, actionLow: low, actionHigh: high,
                  hyperparameters: hyperparameters, rng: &rng)
        imagination = Imagination(model: world, hyperparameters: hyperparameters)
        scratch = allocateFloats(3 * max(Obs, Act))
    }

    deinit { scratch.deallocate() }

    public var policy: GaussianPolicy<Obs, Act> { ppo.policy }

    /// Refits the models on all real transitions, then runs `ppoIterationsPerEpisode` rounds of
    /// imagine-then-update from real start states.
    public func improve(rng: inout RandomSource) -> ImprovementReport {
        var report = ImprovementReport()
        let t0 = edge_monotonic_ns()
        report.dynamicsFit = dynamics.fit(buffer: buffer, rng: &rng)
        if let rewardModel { report.rewardFit = rewardModel.fit(buffer: buffer, rng: &rng) }
        let t1 = edge_monotonic_ns()
        var imagineNs: Int64 = 0, ppoNs: Int64 = 0
        var returnSum: Float = 0
        let iterations = hyperparameters.ppoIterationsPerEpisode
        for _ in 0..<iterations {
            let a = edge_monotonic_ns()
            let rollouts = imagination.rollouts
            buffer.sample(count: rollouts.count, lanes: rollouts.lanes, rng: &rng, obs: rollouts.startObservations)
            report.imagination = imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
            returnSum += report.imagination.meanReturn
            let b = edge_monotonic_ns()
            report.ppo = ppo.update(rollouts, rng: &rng)
            imagineNs += b - a
            ppoNs += edge_monotonic_ns() - b
        }
        report.imaginedReturn = iterations > 0 ? returnSum / Float(iterations) : 0
        report.fitSeconds = Double(t1 - t0) * 1e-9
        report.imaginationSeconds = Double(imagineNs) * 1e-9
        report.ppoSeconds = Double(ppoNs) * 1e-9
        return report
    }
}
