import EdgeCore
import EdgeLearning
import Foundation

/// Pendulum-v1 sizes: observation (cos θ, sin θ, θ̇), action torque u.
typealias PendulumBuffer = TransitionBuffer<3, 1>
typealias PendulumDynamics = DynamicsEnsemble<3, 1, 4, 6>
typealias PendulumRewardModel = RewardModel<3, 1, 4>

/// Gymnasium's Pendulum-v1, exactly: g = 10, m = l = 1, dt = 0.05, |u| ≤ 2, |θ̇| ≤ 8, θ = 0 upright.
enum Pendulum {
    static func step(theta: Double, thetaDot: Double, torque: Double) -> (theta: Double, thetaDot: Double) {
        let u = min(max(torque, -2), 2)
        let newThetaDot = min(max(thetaDot + (3 * 10 / 2 * sin(theta) + 3 * u) * 0.05, -8), 8)
        return (theta + newThetaDot * 0.05, newThetaDot)
    }

    /// −(θ² + 0.1 θ̇² + 0.001 u²) with θ wrapped to [−π, π), of the state before the step.
    static func reward(theta: Double, thetaDot: Double, torque: Double) -> Double {
        let u = min(max(torque, -2), 2)
        let wrapped = (theta + .pi).truncatingRemainder(dividingBy: 2 * .pi)
        let angle = (wrapped < 0 ? wrapped + 2 * .pi : wrapped) - .pi
        return -(angle * angle + 0.1 * thetaDot * thetaDot + 0.001 * u * u)
    }

    static func observation(theta: Double, thetaDot: Double) -> [Float] {
        [Float(cos(theta)), Float(sin(theta)), Float(thetaDot)]
    }

    /// `count` transitions of uniformly random torques in episodes of 200 steps, each started as
    /// Gymnasium resets: θ ~ U(−π, π), θ̇ ~ U(−1, 1).
    static func randomTransitions(_ count: Int, seed: UInt64, into buffer: PendulumBuffer) {
        var rng = RandomSource(seed: seed)
        var theta = 0.0, thetaDot = 0.0
        for i in 0..<count {
            if i % 200 == 0 {
                theta = Double(rng.nextUniform(-.pi, .pi))
                thetaDot = Double(rng.nextUniform(-1, 1))
            }
            let u = Double(rng.nextUniform(-2, 2))
            let next = step(theta: theta, thetaDot: thetaDot, torque: u)
            buffer.append(obs: observation(theta: theta, thetaDot: thetaDot), action: [Float(u)],
                          reward: Float(reward(theta: theta, thetaDot: thetaDot, torque: u)),
                          nextObs: observation(theta: next.theta, thetaDot: next.thetaDot), episode: i / 200)
            (theta, thetaDot) = next
        }
    }

    /// Population standard deviation of observation dimension d over the buffer's obs.
    static func observationStd(_ buffer: PendulumBuffer, _ d: Int) -> Double {
        let values = (0..<buffer.count).map { Double(buffer.observation($0, d)) }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
    }
}

/// The known Pendulum-v1 reward as a `RewardFunction`, reading θ from (cos θ, sin θ).
struct PendulumReward: RewardFunction {
    func reward(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                into reward: UnsafeMutablePointer<Float>) {
        for l in 0..<lanes {
            let theta = atan2(Double(obs[lanes + l]), Double(obs[l]))
            reward[l] = Float(Pendulum.reward(theta: theta, thetaDot: Double(obs[2 * lanes + l]),
                                              torque: Double(action[l])))
        }
    }
}

/// Lane-layout copies of the buffer rows listed in `rows` (padded to a multiple of 16 lanes).
struct PendulumBatch {
    let lanes: Int
    let count: Int
    var obs, action, reward, nextObs: [Float]

    init(_ buffer: PendulumBuffer, rows: [Int32]) {
        count = rows.count
        lanes = paddedToLanes(rows.count)
        obs = [Float](repeating: 0, count: 3 * lanes); nextObs = obs
        action = [Float](repeating: 0, count: lanes); reward = action
        rows.withUnsafeBufferPointer { r in
            buffer.gather(rows: r.baseAddress!, count: count, lanes: lanes, obs: &obs, action: &action,
                          reward: &reward, nextObs: &nextObs)
        }
    }

    /// The holdout rows of `buffer`.
    init(holdoutOf buffer: PendulumBuffer) {
        self.init(buffer, rows: (0..<buffer.holdoutCount).map { Int32(buffer.holdoutRow($0)) })
    }
}

extension PendulumDynamics {
    /// Member `member`'s one-step RMSE of the next-observation mean per dimension over `batch`.
    func rmse(member: Int, on batch: PendulumBatch) -> [Double] {
        var mean = [Float](repeating: 0, count: 3 * batch.lanes), std = mean
        predict(member: member, obs: batch.obs, action: batch.action, lanes: batch.lanes,
                nextObsMean: &mean, nextObsStd: &std)
        return (0..<3).map { d in
            var sum = 0.0
            for l in 0..<batch.count {
                let e = Double(mean[d * batch.lanes + l] - batch.nextObs[d * batch.lanes + l])
                sum += e * e
            }
            return (sum / Double(batch.count)).squareRoot()
        }
    }
}

func fitPendulumDynamics(_ buffer: PendulumBuffer, seed: UInt64,
            hyperparameters: ModelHyperparameters = ModelHyperparameters()) -> (PendulumDynamics, FitReport) {
    var rng = RandomSource(seed: seed)
    let model = PendulumDynamics(hyperparameters: hyperparameters, rng: &rng)
    let report = model.fit(buffer: buffer, rng: &rng)
    return (model, report)
}
