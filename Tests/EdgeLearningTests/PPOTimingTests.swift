import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// Wall time of the learner's pieces in this build, printed, with budgets generous enough for a loaded
/// machine: opt-in (EDGE_TIMING=1), since timing a shared CI core proves little.
/// `EDGE_TIMING=1 swift test -c release --filter PPOTimingTests`
@Suite("PPO timing", .enabled(if: ProcessInfo.processInfo.environment["EDGE_TIMING"] != nil))
struct PPOTimingTests {
    static func seconds(_ body: () -> Void) -> Double {
        let start = Date()
        body()
        return Date().timeIntervalSince(start)
    }

    static func ppo(_ h: Hyperparameters, seed: UInt64) -> PPO<3, 1> {
        var rng = RandomSource(seed: seed)
        return PPO<3, 1>(observationBounds: ExactPendulum.observationBounds, actionLow: ExactPendulum.actionLow,
                         actionHigh: ExactPendulum.actionHigh, hyperparameters: h, rng: &rng)
    }

    @Test("one minibatch update (forward, backward and Adam for policy and value) of 64 and of 1,024 samples")
    func minibatchUpdate() {
        for batch in [64, 1024] {
            var h = Hyperparameters()
            h.rollouts = batch; h.horizon = 1; h.epochs = 1; h.minibatchSize = batch
            let ppo = Self.ppo(h, seed: 1)
            let imagination = Imagination<ExactPendulum, 3, 1>(model: ExactPendulum(), hyperparameters: h)
            let r = imagination.rollouts
            var rng = RandomSource(seed: 2)
            ExactPendulum.randomPolicyBuffer(episodes: 1, seed: 3)
                .sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
            _ = imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
            let repeats = 200_000 / batch
            var report = PPOReport()
            let t = Self.seconds { for _ in 0..<repeats { report = ppo.update(r, rng: &rng) } }
            #expect(report.minibatchUpdates == 1 && report.samples == batch)
            let perUpdate = t / Double(repeats)
            print("timing: PPO minibatch update of \(batch) samples: \(Int(perUpdate * 1e6)) µs"
                  + " (\(Int(perUpdate * 1e9 / Double(batch))) ns per sample)")
            #expect(perUpdate < Double(batch) * 20e-6)
        }
    }

    @Test("4,000 imagined steps and a round of 20 PPO iterations through the learned world model")
    func imaginationAndRound() {
        var rng = RandomSource(seed: 41)
        let h = Hyperparameters()
        let buffer = ExactPendulum.randomPolicyBuffer(episodes: 5, seed: 42)
        let dynamics = PendulumDynamics(hyperparameters: h.models, rng: &rng)
        let reward = PendulumRewardModel(hyperparameters: h.models, rng: &rng)
        _ = dynamics.fit(buffer: buffer, rng: &rng)
        _ = reward.fit(buffer: buffer, rng: &rng)
        let ppo = Self.ppo(h, seed: 43)
        let learned = Imagination<_, 3, 1>(model: LearnedWorldModel(dynamics: dynamics, reward: reward),
                                           hyperparameters: h)
        let exact = Imagination<ExactPendulum, 3, 1>(model: ExactPendulum(), hyperparameters: h)
        func imagine<M: WorldModel>(_ imagination: Imagination<M, 3, 1>) -> ImaginationReport {
            let r = imagination.rollouts
            buffer.sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
            return imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
        }
        let steps = h.imaginedStepsPerIteration
        let repeats = 20
        let learnedTime = Self.seconds { for _ in 0..<repeats { _ = imagine(learned) } } / Double(repeats)
        let exactTime = Self.seconds { for _ in 0..<repeats { _ = imagine(exact) } } / Double(repeats)
        var report = PPOReport()
        let updateTime = Self.seconds { for _ in 0..<repeats { report = ppo.update(learned.rollouts, rng: &rng) } }
            / Double(repeats)
        let roundTime = Self.seconds {
            for _ in 0..<h.ppoIterationsPerEpisode {
                _ = imagine(learned)
                report = ppo.update(learned.rollouts, rng: &rng)
            }
        }
        print("timing: \(steps) imagined steps (\(h.rollouts) rollouts × \(h.horizon)): learned world model "
              + formatFloat(learnedTime * 1e3, digits: 3) + " ms (\(Int(learnedTime * 1e9 / Double(steps))) ns/step),"
              + " exact pendulum " + formatFloat(exactTime * 1e3, digits: 3) + " ms")
        print("timing: PPO update of \(report.samples) samples (\(report.minibatchUpdates) minibatches) "
              + formatFloat(updateTime * 1e3, digits: 3) + " ms")
        print("timing: round of \(h.ppoIterationsPerEpisode) PPO iterations (imagine + update), learned model: "
              + formatFloat(roundTime, digits: 3) + " s")
        #expect(report.minibatchUpdates == 20)
        #expect(roundTime < 5)
    }
}
