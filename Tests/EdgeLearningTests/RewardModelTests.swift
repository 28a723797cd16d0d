import EdgeCore
import EdgeLearning
import Foundation
import Testing

@Suite("Reward model")
struct RewardModelTests {
    @Test("fitted on 1,000 random-action Pendulum-v1 transitions it predicts held-out rewards within 10% of the reward's std, 5% in the upper half")
    func pendulumReward() {
        let buffer = PendulumBuffer(capacity: 1_000)
        Pendulum.randomTransitions(1_000, seed: 21, into: buffer)
        var rng = RandomSource(seed: 22)
        let model = PendulumRewardModel(rng: &rng)
        let report = model.fit(buffer: buffer, rng: &rng)
        print("reward fit: " + report.summary)

        let batch = PendulumBatch(holdoutOf: buffer)
        var predicted = [Float](repeating: 0, count: batch.lanes)
        model.reward(obs: batch.obs, action: batch.action, lanes: batch.lanes, into: &predicted)
        var squared = 0.0, squaredUpper = 0.0, upper = 0
        for l in 0..<batch.count {
            let e = pow(Double(predicted[l] - batch.reward[l]), 2)
            squared += e
            if batch.obs[l] > 0 { squaredUpper += e; upper += 1 }  // cos θ > 0: the upper half
        }
        let rmse = (squared / Double(batch.count)).squareRoot()
        let rmseUpper = (squaredUpper / Double(upper)).squareRoot()
        print("upper half: \(upper) rows, RMSE " + formatFloat(rmseUpper, digits: 3))
        let rewards = (0..<buffer.count).map { Double(buffer.reward($0)) }
        let mean = rewards.reduce(0, +) / Double(rewards.count)
        let std = (rewards.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rewards.count)).squareRoot()
        print("reward holdout RMSE " + formatFloat(rmse, digits: 3) + " (reward std " + formatFloat(std, digits: 3) + ")")
        // θ² of the wrapped angle has a cusp at the bottom (θ = ±π), where random torques keep the
        // pendulum most of the time; the upper half, where a swing-up policy needs it, is smooth.
        #expect(rmse < 0.1 * std)
        #expect(rmseUpper < 0.05 * std)
        #expect(report.members == 1)
        #expect(abs(report.holdoutRMSE[0] - rmse) < 1e-3 * rmse)
    }
}
