import CEdgeSys
import EdgeCore
import EdgeLearning

/// The pendulum's learning models as the trainer builds them with the default hyperparameters
/// (policy 2×64 tanh Gaussian, dynamics ensemble 5 × 2×64 SiLU, reward model 2×64 SiLU), fitted briefly on
/// synthetic Pendulum-v1 transitions so their standardization statistics and imagined-state bounds
/// are those of real data. Shared by the learning kernels of the bench; built once per kernel, untimed.
public final class BenchModels {
    public typealias Dynamics = DynamicsEnsemble<3, 1, 4, 6>
    public typealias Reward = RewardModel<3, 1, 4>
    public typealias Policy = GaussianPolicy<3, 1>

    public let hyperparameters: Hyperparameters
    public let dynamics: Dynamics
    public let reward: Reward
    public let policy: Policy
    public let value: ValueFunction<3>
    /// The synthetic transitions the models were fitted on.
    public let buffer: TransitionBuffer<3, 1>
    /// Observation range of the buffer widened by the imagined-state margin: [low d, high d].
    public let stateLow, stateHigh: UnsafeMutablePointer<Float>

    /// Pendulum-v1 observation bounds (cos θ, sin θ, θ̇).
    public static let observationBounds: [Float] = [1, 1, 8]

    /// Models for `lanes` batched lanes (a multiple of 16; 0 for one-sample use only), fitted for at
    /// most `fitSteps` minibatch steps on `transitions` synthetic transitions.
    public init(seed: UInt64, lanes: Int, transitions: Int = 1_024, fitSteps: Int = 40) {
        var h = Hyperparameters()
        h.models.dynamicsFit.maxStepsPerFit = fitSteps
        h.models.rewardFit.maxStepsPerFit = fitSteps
        hyperparameters = h
        var rng = RandomSource(seed: seed)
        dynamics = Dynamics(hyperparameters: h.models, rng: &rng)
        reward = Reward(hyperparameters: h.models, rng: &rng)
        policy = Policy(observationBounds: Self.observationBounds, actionLow: [-1], actionHigh: [1],
                        initialLogStd: h.initialLogStd, hiddenGain: h.hiddenInitGain,
                        outputScale: h.policyOutputScale, maxLanes: lanes, rng: &rng)
        value = ValueFunction<3>(hiddenGain: h.hiddenInitGain, maxLanes: lanes, rng: &rng)
        buffer = TransitionBuffer<3, 1>(capacity: transitions)
        var obs: [Float] = [0, 0, 0], next: [Float] = [0, 0, 0], action: [Float] = [0]
        for _ in 0..<transitions {
            let theta = rng.nextUniform(-Float.pi, Float.pi), thetaDot = rng.nextUniform(-8, 8)
            action[0] = rng.nextUniform(-1, 1)
            let r = Self.pendulumStep(theta: theta, thetaDot: thetaDot, action: action[0], obs: &obs, next: &next)
            buffer.append(obs: obs, action: action, reward: r, nextObs: next)
        }
        _ = dynamics.fit(buffer: buffer, rng: &rng)
        _ = reward.fit(buffer: buffer, rng: &rng)
        stateLow = allocateFloats(3)
        stateHigh = allocateFloats(3)
        let margin = h.models.imaginedStateMargin
        for d in 0..<3 {
            let low = buffer.observationLow(d), high = buffer.observationHigh(d)
            stateLow[d] = low - margin * (high - low)
            stateHigh[d] = high + margin * (high - low)
        }
    }

    deinit {
        stateLow.deallocate()
        stateHigh.deallocate()
    }

    /// One Pendulum-v1 step (g = 10, m = l = 1, dt = 0.05, torque 2 × action): writes the observation
    /// before and after, returns the reward −(θ² + 0.1 θ̇² + 0.001 u²).
    static func pendulumStep(theta: Float, thetaDot: Float, action: Float, obs: inout [Float],
                             next: inout [Float]) -> Float {
        let u = 2 * min(max(action, -1), 1), dt: Float = 0.05
        var newDot = thetaDot + (15 * sinf(theta) + 3 * u) * dt
        newDot = min(max(newDot, -8), 8)
        let newTheta = theta + newDot * dt
        obs[0] = cosf(theta); obs[1] = sinf(theta); obs[2] = thetaDot
        next[0] = cosf(newTheta); next[1] = sinf(newTheta); next[2] = newDot
        return -(theta * theta + 0.1 * thetaDot * thetaDot + 0.001 * u * u)
    }
}
