import EdgeCore
import EdgeLearning
import Foundation

/// Gymnasium's Pendulum-v1, exactly (g = 10, m = 1, l = 1, dt = 0.05, torque ±2, speed ±8), as a
/// test-only `WorldModel`: observation (cos θ, sin θ, θ̇), reward −(θ² + 0.1 θ̇² + 0.001 u²) with θ
/// wrapped to [−π, π], disagreement 0.
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
            let next = Self.step(cos: Double(obs[l]), sin: Double(obs[lanes + l]), speed: Double(obs[2 * lanes + l]),
                                 torque: Double(action[l]))
            reward[l] = Float(next.reward)
            nextObs[l] = Float(Foundation.cos(next.theta))
            nextObs[lanes + l] = Float(Foundation.sin(next.theta))
            nextObs[2 * lanes + l] = Float(next.speed)
            disagreement[l] = 0
        }
    }

    /// One Pendulum-v1 step from (cos θ, sin θ, θ̇) under torque u.
    static func step(cos c: Double, sin s: Double, speed: Double, torque: Double)
        -> (theta: Double, speed: Double, reward: Double) {
        let theta = atan2(s, c)
        let u = min(max(torque, -2), 2)
        let reward = -(theta * theta + 0.1 * speed * speed + 0.001 * u * u)
        let newSpeed = min(max(speed + (3 * 10 / 2 * Foundation.sin(theta) + 3 * u) * 0.05, -8), 8)
        return (theta + newSpeed * 0.05, newSpeed, reward)
    }

    /// Observations row-major [count][3] visited by a uniformly random policy in `episodes` episodes of
    /// 200 steps from Pendulum-v1's reset distribution (θ ~ U[−π, π], θ̇ ~ U[−1, 1]): the kind of data a
    /// first real episode gives imagination to start from.
    static func randomPolicyStates(episodes: Int, seed: UInt64) -> [Float] {
        var rng = RandomSource(seed: seed)
        var rows: [Float] = []
        for _ in 0..<episodes {
            var theta = Double(rng.nextUniform(-.pi, .pi)), speed = Double(rng.nextUniform(-1, 1))
            for _ in 0..<200 {
                rows += [Float(Foundation.cos(theta)), Float(Foundation.sin(theta)), Float(speed)]
                let next = step(cos: Foundation.cos(theta), sin: Foundation.sin(theta), speed: speed,
                                torque: Double(rng.nextUniform(-2, 2)))
                theta = next.theta
                speed = next.speed
            }
        }
        return rows
    }
}
