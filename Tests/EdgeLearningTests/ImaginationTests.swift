import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// Exact pendulum steps with a scripted disagreement: from step `cutStep` on, even lanes report
/// `high`, all others `low`.
final class ScriptedDisagreement: WorldModel {
    let pendulum = ExactPendulum()
    let cutStep: Int, low: Float, high: Float
    var stepsTaken = 0

    init(cutStep: Int, low: Float, high: Float) {
        self.cutStep = cutStep
        self.low = low
        self.high = high
    }

    var observationCount: Int { 3 }
    var actionCount: Int { 1 }
    var maxLanes: Int { 4096 }

    func step(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int, rng: inout RandomSource,
              nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>,
              disagreement: UnsafeMutablePointer<Float>) {
        pendulum.step(obs: obs, action: action, lanes: lanes, rng: &rng, nextObs: nextObs, reward: reward,
                      disagreement: disagreement)
        for l in 0..<lanes { disagreement[l] = stepsTaken >= cutStep && l % 2 == 0 ? high : low }
        stepsTaken += 1
    }
}

@Suite("Imagination")
struct ImaginationTests {
    static func ppo(_ h: Hyperparameters, seed: UInt64) -> PPO<3, 1> {
        var rng = RandomSource(seed: seed)
        return PPO<3, 1>(observationBounds: ExactPendulum.observationBounds, actionLow: ExactPendulum.actionLow,
                         actionHigh: ExactPendulum.actionHigh, hyperparameters: h, rng: &rng)
    }

    @Test("rollouts record exact pendulum transitions under the clipped plant action, with consistent log-probs and values")
    func recordsConsistentRollouts() {
        var h = Hyperparameters()
        h.rollouts = 20; h.horizon = 6; h.initialLogStd = 0.5  // wide: some actions saturate
        let ppo = Self.ppo(h, seed: 1)
        let imagination = Imagination<ExactPendulum, 3, 1>(model: ExactPendulum(), hyperparameters: h)
        let r = imagination.rollouts
        var rng = RandomSource(seed: 2)
        ExactPendulum.randomPolicyBuffer(episodes: 1, seed: 4)
            .sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
        let report = imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
        #expect(r.lanes == 32 && report.steps == 20 * 6 && report.truncatedRollouts == 0)

        let input = allocateFloats(3 * r.lanes), check = allocateFloats(r.lanes)
        defer { input.deallocate(); check.deallocate() }
        var saturated = 0, returnSum: Double = 0
        for t in 0..<r.horizon {
            let obs = r.observations + t * 3 * r.lanes, next = obs + 3 * r.lanes
            ppo.policy.scaleObservations(obs, into: input, lanes: r.lanes)
            let v = ppo.value.predict(input: input, lanes: r.lanes)
            for l in 0..<r.lanes { #expect(r.values[t * r.lanes + l] == v[l]) }
            let mu = ppo.policy.forwardMean(input: input, lanes: r.lanes)
            ppo.policy.logProb(mean: mu, actions: r.actions + t * r.lanes, lanes: r.lanes, into: check)
            for l in 0..<r.lanes {
                let i = t * r.lanes + l
                guard l < r.count else {
                    #expect(r.valid[i] == 0 && r.rewards[i] == 0)
                    continue
                }
                #expect(r.valid[i] == 1)
                #expect(abs(r.logProbs[i] - check[l]) < 1e-4)
                let u = r.actions[i], torque = 2 * min(max(u, -1), 1)
                if abs(u) > 1 { saturated += 1 }
                let step = ExactPendulum.transition(cos: obs[l], sin: obs[r.lanes + l], speed: obs[2 * r.lanes + l],
                                                    torque: torque)
                for d in 0..<3 { #expect(next[d * r.lanes + l] == step.next[d]) }
                #expect(abs(r.rewards[i] - 0.1 * step.reward) < 1e-5)
                returnSum += Double(step.reward)
            }
        }
        #expect(saturated > 5)
        #expect(abs(Double(report.meanReturn) - returnSum / 20) < 1e-3)
        // The bootstrap row holds V of the last states.
        ppo.policy.scaleObservations(r.observations + r.horizon * 3 * r.lanes, into: input, lanes: r.lanes)
        let last = ppo.value.predict(input: input, lanes: r.lanes)
        for l in 0..<r.lanes { #expect(r.values[r.horizon * r.lanes + l] == last[l]) }
    }

    @Test("a step whose disagreement exceeds the threshold ends its rollout; the step before bootstraps and PPO never trains on it")
    func disagreementTruncatesAndPenalizes() {
        var h = Hyperparameters()
        h.rollouts = 24; h.horizon = 8; h.disagreementThreshold = 1; h.disagreementPenalty = 0.5
        let ppo = Self.ppo(h, seed: 3)
        let model = ScriptedDisagreement(cutStep: 3, low: 0.1, high: 2)
        let imagination = Imagination<ScriptedDisagreement, 3, 1>(model: model, hyperparameters: h)
        let r = imagination.rollouts
        var rng = RandomSource(seed: 6)
        ExactPendulum.randomPolicyBuffer(episodes: 1, seed: 5)
            .sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
        let report = imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
        #expect(report.truncatedRollouts == 12)
        #expect(report.steps == 12 * 8 + 12 * 3)
        #expect(abs(report.meanDisagreement - 0.1) < 1e-6)
        for t in 0..<r.horizon {
            let obs = r.observations + t * 3 * r.lanes
            for l in 0..<r.count {
                let i = t * r.lanes + l
                let expectedValid: Float = l % 2 == 1 || t < 3 ? 1 : 0
                #expect(r.valid[i] == expectedValid)
                guard expectedValid == 1 else { #expect(r.rewards[i] == 0); continue }
                let step = ExactPendulum.transition(cos: obs[l], sin: obs[r.lanes + l], speed: obs[2 * r.lanes + l],
                                                    torque: 2 * min(max(r.actions[i], -1), 1))
                #expect(abs(r.rewards[i] - 0.1 * (step.reward - 0.5 * 0.1)) < 1e-5)
            }
        }
        let update = ppo.update(r, rng: &rng)
        #expect(update.samples == report.steps)
        // Lane 0 was cut at step 3: its step 2 bootstraps from V(s_3) and nothing flows back from step 3.
        let lanes = r.lanes
        let delta = r.rewards[2 * lanes] + 0.99 * r.values[3 * lanes] - r.values[2 * lanes]
        #expect(abs(r.advantages[2 * lanes] - delta) < 1e-5)
        #expect(r.advantages[3 * lanes] == 0 && r.returns[3 * lanes] == 0)
    }
}
