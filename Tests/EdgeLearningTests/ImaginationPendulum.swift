import EdgeCore
import EdgeLearning
import Foundation

/// Gymnasium's Pendulum-v1, exactly (`Pendulum` in DynamicsPendulumSupport.swift), as a test-only
/// `WorldModel` on observations (cos θ, sin θ, θ̇): the published step and reward, disagreement 0.
struct ExactPendulum: WorldModel {
    static let observationBounds: [Float] = [1, 1, 8]
    static let actionLow: [Float] = [-2]
    static let actionHigh: [Float] = [2]

    var observationCount: Int { 3 }
    var actionCount: Int { 1 }
    var maxLanes: Int { 1 << 20 }

    func step(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int, rng: inout RandomSource,
              nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>,
              disagreement: UnsafeMutablePointer<Float>) {
        for l in 0..<lanes {
            let t = Self.transition(cos: obs[l], sin: obs[lanes + l], speed: obs[2 * lanes + l], torque: action[l])
            for d in 0..<3 { nextObs[d * lanes + l] = t.next[d] }
            reward[l] = t.reward
            disagreement[l] = 0
        }
    }

    /// The next observation and the reward of one step from (cos θ, sin θ, θ̇) under `torque`.
    static func transition(cos c: Float, sin s: Float, speed: Float, torque: Float) -> (next: [Float], reward: Float) {
        let theta = atan2(Double(s), Double(c))
        let next = Pendulum.step(theta: theta, thetaDot: Double(speed), torque: Double(torque))
        return (Pendulum.observation(theta: next.theta, thetaDot: next.thetaDot),
                Float(Pendulum.reward(theta: theta, thetaDot: Double(speed), torque: Double(torque))))
    }

    /// The real data of a first few episodes: `episodes` × 200 random-torque steps from Pendulum-v1 resets.
    static func randomPolicyBuffer(episodes: Int, seed: UInt64) -> PendulumBuffer {
        let buffer = PendulumBuffer(capacity: episodes * 200)
        Pendulum.randomTransitions(episodes * 200, seed: seed, into: buffer)
        return buffer
    }
}

/// PPO in imagination on exact Pendulum-v1 dynamics, starting from the states of a random-policy buffer.
final class PendulumLearner {
    let ppo: PPO<3, 1>
    let imagination: Imagination<ExactPendulum, 3, 1>
    let buffer: PendulumBuffer

    init(hyperparameters: Hyperparameters = Hyperparameters(), seed: UInt64) {
        var rng = RandomSource(seed: seed)
        ppo = PPO<3, 1>(observationBounds: ExactPendulum.observationBounds, actionLow: ExactPendulum.actionLow,
                        actionHigh: ExactPendulum.actionHigh, hyperparameters: hyperparameters, rng: &rng)
        imagination = Imagination(model: ExactPendulum(), hyperparameters: hyperparameters)
        buffer = ExactPendulum.randomPolicyBuffer(episodes: 5, seed: seed &+ 100)
    }

    /// One PPO iteration: imagine from start states sampled from the buffer, then update.
    func iterate(rng: inout RandomSource) -> (imagined: ImaginationReport, ppo: PPOReport) {
        let imagined = imagine(rng: &rng)
        return (imagined, ppo.update(imagination.rollouts, rng: &rng))
    }

    func imagine(rng: inout RandomSource) -> ImaginationReport {
        let r = imagination.rollouts
        buffer.sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
        return imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
    }

    /// Mean imagined return of the current (stochastic) policy from fixed start states and noise.
    func evaluate() -> Float {
        var rng = RandomSource(seed: 999)
        return imagine(rng: &rng).meanReturn
    }
}
