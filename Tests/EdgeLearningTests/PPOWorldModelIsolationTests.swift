import EdgeCore
import EdgeLearning
import Testing

/// Every number a regression ensemble keeps: each member's parameters and gradients, its Adam moments,
/// and the standardization.
func ensembleState<let In: Int, let Out: Int, Loss: RegressionLoss>(_ e: RegressionEnsemble<In, Out, Loss>) -> [Float] {
    var state: [Float] = []
    for (net, adam) in zip(e.members, e.optimizers) {
        let n = net.parameters.count
        state += UnsafeBufferPointer(start: net.parameters.values, count: n)
        state += UnsafeBufferPointer(start: net.parameters.grads, count: n)
        state += UnsafeBufferPointer(start: adam.firstMoments, count: n)
        state += UnsafeBufferPointer(start: adam.secondMoments, count: n)
        state.append(Float(adam.steps))
    }
    for (p, count) in [(e.inputMean, In), (e.inputStd, In), (e.targetMean, e.targetCount), (e.targetStd, e.targetCount)] {
        state += UnsafeBufferPointer(start: p, count: count)
    }
    return state
}

@Suite("PPO and the world model")
struct PPOWorldModelIsolationTests {
    @Test("imagination and PPO updates leave every parameter, gradient and optimizer state of the dynamics ensemble and reward model untouched")
    func ppoLeavesWorldModelUntouched() {
        var rng = RandomSource(seed: 31)
        var h = Hyperparameters()
        h.models.dynamicsFit.maxStepsPerFit = 60
        h.models.rewardFit.maxStepsPerFit = 60
        let buffer = ExactPendulum.randomPolicyBuffer(episodes: 2, seed: 32)
        let dynamics = PendulumDynamics(hyperparameters: h.models, rng: &rng)
        let reward = PendulumRewardModel(hyperparameters: h.models, rng: &rng)
        _ = dynamics.fit(buffer: buffer, rng: &rng)  // fitted: gradients and Adam moments are non-zero
        _ = reward.fit(buffer: buffer, rng: &rng)
        let model = LearnedWorldModel(dynamics: dynamics, reward: reward)
        let dynamicsBefore = ensembleState(dynamics.networks), rewardBefore = ensembleState(reward.networks)

        let ppo = PPO<3, 1>(observationBounds: ExactPendulum.observationBounds, actionLow: ExactPendulum.actionLow,
                            actionHigh: ExactPendulum.actionHigh, hyperparameters: h, rng: &rng)
        let imagination = Imagination<_, 3, 1>(model: model, hyperparameters: h)
        let policyBefore = Array(UnsafeBufferPointer(start: ppo.policy.meanNetwork.parameters.values,
                                                     count: ppo.policy.meanNetwork.parameters.count))
        for _ in 0..<2 {
            let r = imagination.rollouts
            buffer.sample(count: r.count, lanes: r.lanes, rng: &rng, obs: r.startObservations)
            let imagined = imagination.run(policy: ppo.policy, value: ppo.value, rng: &rng)
            #expect(imagined.steps > 0 && imagined.meanDisagreement > 0)
            let update = ppo.update(r, rng: &rng)
            #expect(update.minibatchUpdates > 0)
        }
        let policyAfter = Array(UnsafeBufferPointer(start: ppo.policy.meanNetwork.parameters.values,
                                                    count: ppo.policy.meanNetwork.parameters.count))
        #expect(policyAfter != policyBefore)  // PPO did learn
        #expect(dynamicsBefore.contains { $0 != 0 } && rewardBefore.contains { $0 != 0 })
        #expect(ensembleState(dynamics.networks) == dynamicsBefore)
        #expect(ensembleState(reward.networks) == rewardBefore)
    }
}
