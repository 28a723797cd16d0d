import EdgeCore
import EdgeLearning
import Testing

@Suite("Pathwise policy optimizer")
struct PathwisePolicyOptimizerTests {
    @Test("pathwise Adam steps raise the imagined return of a linear-Gaussian problem and are copied back into the policy")
    func stepsImproveTheImaginedReturn() {
        var h = Hyperparameters()
        h.rollouts = 64
        h.horizon = 5
        h.gamma = 0.9
        h.policyLearningRate = 3e-3
        let optimizer = PathwisePolicyOptimizer<_, 1, 1>(world: LinearGaussianWorld(), observationBounds: [2],
                                                        actionLow: [-1], actionHigh: [1], hyperparameters: h)
        var rng = RandomSource(seed: 70)
        let policy = GaussianPolicy<1, 1>(observationBounds: [2], actionLow: [-1], actionHigh: [1], initialLogStd: -1,
                                          hiddenGain: 1, outputScale: 0.5, maxLanes: 16, rng: &rng)
        let starts = StartStateSampler(buffer: bufferOfStates([[1], [-1]]) as TransitionBuffer<1, 1>)
        /// J of `policy` on fixed start states and noise.
        func imaginedReturn() -> Double {
            optimizer.gradient.copyPolicy(from: policy)
            var evaluation = RandomSource(seed: 71)
            starts.fill(count: 64, lanes: 64, rng: &evaluation, into: optimizer.gradient.startStates)
            return optimizer.gradient.rollout(count: 64, horizon: 5, rng: &evaluation)
        }
        let before = imaginedReturn()
        let report = optimizer.improve(policy: policy, starts: starts, steps: 150, rng: &rng)
        let after = imaginedReturn()
        #expect(report.steps == 150 && report.skippedSteps == 0 && report.imaginedSteps == 150 * 64 * 5)
        #expect(report.meanGradNorm > 0)
        // From s = ±1 toward 0.5 with actions costing 0.1 a²: the return rises by a clear margin.
        #expect(after > before + 0.25 * abs(before), "J before \(before), after \(after)")
    }
}
