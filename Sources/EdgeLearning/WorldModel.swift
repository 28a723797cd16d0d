import EdgeCore

/// What imagination (and the policy optimizer behind it) may do with the world model: step a batch of
/// imagined states forward. Only forward passes are reachable through this protocol; the parameter
/// stores, optimizers and fitting of f_psi and r_phi are not, so no gradient of the policy loss can
/// reach them (DESIGN.md section 4). Generic code takes `some WorldModel` / `W: WorldModel`.
///
/// Layout: obs[observationCount][lanes], action[actionCount][lanes], lanes a multiple of 16 and at
/// most `maxLanes`. Implementations must not allocate in `step`.
public protocol WorldModel {
    /// Rows of obs / nextObs.
    var observationCount: Int { get }
    /// Rows of action.
    var actionCount: Int { get }
    /// Largest lane count of one `step`.
    var maxLanes: Int { get }

    /// One imagined step: writes nextObs[observationCount][lanes], the reward r(obs, action) per lane,
    /// and a disagreement per lane (0 for an exact model) that imagination may truncate or penalize on.
    func step(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int, rng: inout RandomSource,
              nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>,
              disagreement: UnsafeMutablePointer<Float>)
}

/// The learned world model: next states sampled from the dynamics ensemble (a random member per lane,
/// a draw from its Gaussian, clipped to the data's range ± margin), rewards from `Reward` (the learned
/// `RewardModel` or a rig's known reward function), disagreement from the ensemble.
///
/// Holds references: refitting the dynamics or reward model (by their owner, on the same thread)
/// changes what `step` predicts, without a new world model.
public final class LearnedWorldModel<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int,
                                     Reward: RewardFunction>: WorldModel {
    let dynamics: DynamicsEnsemble<Obs, Act, ObsAct, Obs2>
    let rewardFunction: Reward

    public init(dynamics: DynamicsEnsemble<Obs, Act, ObsAct, Obs2>, reward: Reward) {
        self.dynamics = dynamics
        rewardFunction = reward
    }

    public var observationCount: Int { Obs }
    public var actionCount: Int { Act }
    public var maxLanes: Int { dynamics.maxLanes }

    public func step(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int, rng: inout RandomSource,
                     nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>,
                     disagreement: UnsafeMutablePointer<Float>) {
        rewardFunction.reward(obs: obs, action: action, lanes: lanes, into: reward)
        dynamics.sampleNext(obs: obs, action: action, lanes: lanes, rng: &rng, into: nextObs,
                            disagreement: disagreement)
    }
}
