import EdgeCore
import EdgeLearning
import Testing

@Suite("Hybrid (value-bootstrapped pathwise) policy optimizer")
struct HybridPolicyOptimizerTests {
    /// A hybrid optimizer on the learned pendulum models of a short fit, H = 5, 32 rollouts.
    static func learnedHybrid(seed: UInt64, gamma: Float = 0.99)
        -> (HybridPolicyOptimizer<LearnedModelSnapshot<3, 1, 4, 6>, 3, 1>, PendulumBuffer) {
        let (buffer, dynamics, reward) = fittedPendulumModels(seed: seed)
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 64)
        var settings = HybridSettings()
        settings.horizon = 5
        settings.rollouts = 32
        var hyperparameters = Hyperparameters()
        hyperparameters.gamma = gamma
        var rng = RandomSource(seed: seed &+ 7)
        let optimizer = HybridPolicyOptimizer<_, 3, 1>(world: world, observationBounds: [1, 1, 8], actionLow: [-1],
                                                      actionHigh: [1], hyperparameters: hyperparameters,
                                                      settings: settings, rng: &rng)
        return (optimizer, buffer)
    }

    @Test("the hybrid gradient (rewards over H = 5 plus the value bootstrap at s_H, through r_phi, f_psi, pi_theta and V's input) matches central differences of J_V with the noise fixed (relative error below 2e-3 along the gradient, random directions and log σ)")
    func hybridGradientMatchesFiniteDifferences() {
        let (optimizer, buffer) = Self.learnedHybrid(seed: 81)
        let estimator = optimizer.gradient
        estimator.copyPolicy(from: pendulumPolicy(seed: 82, logStd: -1.2, outputScale: 0.5))
        var rng = RandomSource(seed: 83)
        StartStateSampler(buffer: buffer).fill(count: 32, lanes: 32, rng: &rng, into: estimator.startStates)
        let starts = Array(UnsafeBufferPointer(start: estimator.startStates, count: 3 * 32))
        let noise = rng
        // A value function that is not flat (it starts at zero): fitted on a rollout of these starts.
        var fitRNG = RandomSource(seed: 84), replay = noise
        optimizer.rollout(count: 32, rng: &replay)
        for _ in 0..<30 { optimizer.fitValue(rng: &fitRNG) }

        func objective(_ theta: [Double]) -> Double {
            setPolicyParameters(estimator, theta)
            for i in 0..<starts.count { estimator.startStates[i] = starts[i] }
            var replay = noise
            return optimizer.rollout(count: 32, rng: &replay)
        }
        let theta = policyParameters(estimator)
        let j0 = objective(theta)
        var gradient = [Double](repeating: 0, count: estimator.parameterCount)
        optimizer.policyGradient(into: &gradient)
        #expect(abs(optimizer.lastBootstrapTerm) > 0.05 * abs(j0), "the bootstrap term must matter in J_V")
        // The same rollout without the value term: the value-input gradient must change the result.
        var withoutValue = [Double](repeating: 0, count: estimator.parameterCount)
        estimator.pathwiseGradient(into: &withoutValue)
        let valuePart = zip(gradient, withoutValue).map { $0 - $1 }
        #expect(norm(valuePart) > 0.05 * norm(gradient), "value part \(norm(valuePart)) of \(norm(gradient))")

        var directions = [gradient.map { $0 / norm(gradient) }, valuePart.map { $0 / norm(valuePart) }]
        var directionRNG = RandomSource(seed: 85)
        for _ in 0..<3 {
            let v = (0..<gradient.count).map { _ in Double(directionRNG.nextGaussian()) }
            directions.append(v.map { $0 / norm(v) })
        }
        var logStdOnly = [Double](repeating: 0, count: gradient.count)
        logStdOnly[gradient.count - 1] = 1
        directions.append(logStdOnly)
        let size = 1e-2
        for v in directions {
            let difference = (objective(zip(theta, v).map { $0 + size * $1 })
                              - objective(zip(theta, v).map { $0 - size * $1 })) / (2 * size)
            let analytic = dot(gradient, v)
            #expect(abs(difference - analytic) <= 2e-3 * max(abs(analytic), 0.05 * norm(gradient)),
                    "directional derivative \(analytic) vs central difference \(difference)")
        }
        setPolicyParameters(estimator, theta)
    }

    @Test("the policy gradient leaves V's parameters unchanged and repeated value regressions on one batch converge to its TD(lambda) targets (gamma 0.9: loss falls 20x)")
    func valueIsTrainedOnlyByItsRegression() {
        let (optimizer, buffer) = Self.learnedHybrid(seed: 86, gamma: 0.9)
        optimizer.gradient.copyPolicy(from: pendulumPolicy(seed: 87, logStd: -0.7, outputScale: 0.5))
        let store = optimizer.value.network.parameters
        func weights() -> [Float] { Array(UnsafeBufferPointer(start: store.values, count: store.count)) }
        var rng = RandomSource(seed: 88)
        StartStateSampler(buffer: buffer).fill(count: 32, lanes: 32, rng: &rng, into: optimizer.gradient.startStates)
        optimizer.rollout(count: 32, rng: &rng)
        let before = weights()
        var gradient = [Double](repeating: 0, count: optimizer.gradient.parameterCount)
        optimizer.policyGradient(into: &gradient)
        #expect(weights() == before)
        let first = optimizer.fitValue(rng: &rng)
        #expect(weights() != before)
        var last = first
        for _ in 0..<40 { last = optimizer.fitValue(rng: &rng) }
        #expect(last < 0.05 * first, "value loss \(first) → \(last)")
    }

    @Test("hybrid steps with H = 2 raise the long-horizon (H = 20) imagined return of a linear-Gaussian problem by more than half")
    func stepsImproveTheLongHorizonReturn() {
        var h = Hyperparameters()
        h.gamma = 0.9
        h.policyLearningRate = 1e-3
        h.rewardScale = 1
        var settings = HybridSettings()
        settings.horizon = 2
        settings.rollouts = 64
        settings.valueEpochs = 5
        var rng = RandomSource(seed: 90)
        let optimizer = HybridPolicyOptimizer<_, 1, 1>(world: LinearGaussianWorld(), observationBounds: [2],
                                                      actionLow: [-1], actionHigh: [1], hyperparameters: h,
                                                      settings: settings, rng: &rng)
        let policy = GaussianPolicy<1, 1>(observationBounds: [2], actionLow: [-1], actionHigh: [1], initialLogStd: -1,
                                          hiddenGain: 1, outputScale: 0.5, maxLanes: 16, rng: &rng)
        // Starts spread over [-1.5, 1.5], so V is fitted where the rollouts' last states land.
        let spread = stride(from: Float(-1.5), through: 1.5, by: 0.25).map { [$0] }
        let starts = StartStateSampler(buffer: bufferOfStates(spread) as TransitionBuffer<1, 1>)
        let evaluator = ImaginedReturnGradient<_, 1, 1>(world: LinearGaussianWorld(), observationBounds: [2],
                                                       actionLow: [-1], actionHigh: [1], maxHorizon: 20, maxLanes: 64,
                                                       gamma: 0.9)
        func longReturn() -> Double {
            evaluator.copyPolicy(from: policy)
            var evaluation = RandomSource(seed: 91)
            starts.fill(count: 64, lanes: 64, rng: &evaluation, into: evaluator.startStates)
            return evaluator.rollout(count: 64, horizon: 20, rng: &evaluation)
        }
        let before = longReturn()
        let report = optimizer.improve(policy: policy, starts: starts, steps: 300, rng: &rng)
        let after = longReturn()
        #expect(report.steps == 300 && report.skippedSteps == 0 && report.imaginedSteps == 300 * 64 * 2)
        #expect(report.meanGradNorm > 0 && report.meanValueLoss.isFinite)
        #expect(after > before + 0.5 * abs(before), "J_20 before \(before), after \(after)")
    }
}
