import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// The policy parameters of an estimator's policy as one Double vector (mean network store, then log-std).
func policyParameters<W: DifferentiableWorldModel, let Obs: Int, let Act: Int>(
    _ e: ImaginedReturnGradient<W, Obs, Act>) -> [Double] {
    let store = e.policy.meanNetwork.parameters
    return (0..<store.count).map { Double(store.values[$0]) } + (0..<Act).map { Double(e.policy.logStd.values[$0]) }
}

/// Sets the estimator's policy parameters from one vector (the layout of `policyParameters`).
func setPolicyParameters<W: DifferentiableWorldModel, let Obs: Int, let Act: Int>(
    _ e: ImaginedReturnGradient<W, Obs, Act>, _ theta: [Double]) {
    let store = e.policy.meanNetwork.parameters
    for i in 0..<store.count { store.values[i] = Float(theta[i]) }
    for j in 0..<Act { e.policy.logStd.values[j] = Float(theta[store.count + j]) }
}

func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

@Suite("Pathwise and likelihood-ratio gradients")
struct PathwiseGradientTests {
    static func learnedEstimator(seed: UInt64, horizon: Int)
        -> (ImaginedReturnGradient<LearnedModelSnapshot<3, 1, 4, 6>, 3, 1>, PendulumBuffer) {
        let (buffer, dynamics, reward) = fittedPendulumModels(seed: seed)
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 64)
        let estimator = ImaginedReturnGradient<_, 3, 1>(world: world, observationBounds: [1, 1, 8], actionLow: [-1],
                                                       actionHigh: [1], maxHorizon: horizon, maxLanes: 64, gamma: 0.99)
        return (estimator, buffer)
    }

    @Test("the pathwise gradient of the imagined return matches central differences of J with the noise fixed (H = 5, relative error below 2e-3 along the gradient, random directions and log σ)")
    func pathwiseMatchesFiniteDifferences() {
        let (estimator, buffer) = Self.learnedEstimator(seed: 41, horizon: 5)
        estimator.copyPolicy(from: pendulumPolicy(seed: 42, logStd: -1.2, outputScale: 0.5))
        var rng = RandomSource(seed: 43)
        StartStateSampler(buffer: buffer).fill(count: 32, lanes: 32, rng: &rng, into: estimator.startStates)
        let noise = rng
        var replay = noise
        let j0 = estimator.rollout(count: 32, horizon: 5, rng: &replay)
        var gradient = [Double](repeating: 0, count: estimator.parameterCount)
        estimator.pathwiseGradient(into: &gradient)
        let theta = policyParameters(estimator)

        func objective(_ step: [Double], _ size: Double) -> Double {
            setPolicyParameters(estimator, zip(theta, step).map { $0 + size * $1 })
            var replay = noise
            let j = estimator.rollout(count: 32, horizon: 5, rng: &replay)
            setPolicyParameters(estimator, theta)
            return j
        }
        var directions = [gradient.map { $0 / norm(gradient) }]
        var directionRNG = RandomSource(seed: 44)
        for _ in 0..<3 {
            let v = (0..<gradient.count).map { _ in Double(directionRNG.nextGaussian()) }
            directions.append(v.map { $0 / norm(v) })
        }
        var logStdOnly = [Double](repeating: 0, count: gradient.count)
        logStdOnly[gradient.count - 1] = 1
        directions.append(logStdOnly)
        #expect(j0 < 0 && norm(gradient) > 0.1)
        let size = 1e-2
        for v in directions {
            let difference = (objective(v, size) - objective(v, -size)) / (2 * size)
            let analytic = dot(gradient, v)
            let error = abs(difference - analytic)
            #expect(error <= 2e-3 * max(abs(analytic), 0.05 * norm(gradient)),
                    "directional derivative \(analytic) vs central difference \(difference)")
        }
    }

    @Test("the snapshot's step reproduces the ensemble member's Gaussian (mean + std · noise) and the reward model")
    func snapshotMatchesModels() {
        let (buffer, dynamics, reward) = fittedPendulumModels(seed: 45)
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 64)
        let lanes = 32
        var rng = RandomSource(seed: 46)
        var obs = [Float](repeating: 0, count: 3 * lanes)
        buffer.sample(count: lanes, lanes: lanes, rng: &rng, obs: &obs)
        let action = (0..<lanes).map { _ in rng.nextUniform(-1, 1) }
        let noise = (0..<(3 * lanes)).map { _ in rng.nextGaussian() }
        for member in 0..<world.memberCount {
            var next = [Float](repeating: 0, count: 3 * lanes), r = [Float](repeating: 0, count: lanes)
            world.step(member: member, obs: obs, action: action, noise: noise, lanes: lanes, nextObs: &next, reward: &r)
            var mean = next, std = next, expectedReward = r
            dynamics.predict(member: member, obs: obs, action: action, lanes: lanes, nextObsMean: &mean, nextObsStd: &std)
            reward.reward(obs: obs, action: action, lanes: lanes, into: &expectedReward)
            for d in 0..<3 {
                let low = buffer.observationLow(d) - 0.05 * (buffer.observationHigh(d) - buffer.observationLow(d))
                let high = buffer.observationHigh(d) + 0.05 * (buffer.observationHigh(d) - buffer.observationLow(d))
                for l in 0..<lanes {
                    let i = d * lanes + l
                    let expected = min(max(mean[i] + std[i] * noise[i], low), high)
                    #expect(abs(next[i] - expected) <= 1e-5 * max(1, abs(expected)))
                }
            }
            for l in 0..<lanes { #expect(abs(r[l] - expectedReward[l]) <= 1e-5 * max(1, abs(expectedReward[l]))) }
        }
    }

    @Test("refresh makes a snapshot follow its models after they are refitted on more data")
    func refreshFollowsARefit() {
        var h = ModelHyperparameters()
        h.dynamicsFit.maxStepsPerFit = 100
        h.rewardFit.maxStepsPerFit = 100
        let buffer = PendulumBuffer(capacity: 800)
        Pendulum.randomTransitions(400, seed: 56, into: buffer)
        var rng = RandomSource(seed: 57)
        let dynamics = PendulumDynamics(hyperparameters: h, rng: &rng)
        let reward = PendulumRewardModel(hyperparameters: h, rng: &rng)
        _ = dynamics.fit(buffer: buffer, rng: &rng)
        _ = reward.fit(buffer: buffer, rng: &rng)
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 16)
        Pendulum.randomTransitions(400, seed: 58, into: buffer)
        _ = dynamics.fit(buffer: buffer, rng: &rng)
        _ = reward.fit(buffer: buffer, rng: &rng)
        let lanes = 16
        var obs = [Float](repeating: 0, count: 3 * lanes)
        buffer.sample(count: lanes, lanes: lanes, rng: &rng, obs: &obs)
        let action = (0..<lanes).map { _ in rng.nextUniform(-1, 1) }
        let noise = [Float](repeating: 0, count: 3 * lanes)
        var mean = obs, std = obs, expectedReward = action
        dynamics.predict(member: 0, obs: obs, action: action, lanes: lanes, nextObsMean: &mean, nextObsStd: &std)
        reward.reward(obs: obs, action: action, lanes: lanes, into: &expectedReward)
        func largestDifference() -> Float {
            var next = obs, r = action
            world.step(member: 0, obs: obs, action: action, noise: noise, lanes: lanes, nextObs: &next, reward: &r)
            return max(zip(next, mean).map { abs($0 - $1) }.max()!, zip(r, expectedReward).map { abs($0 - $1) }.max()!)
        }
        #expect(largestDifference() > 1e-3)  // stale: the models moved
        world.refresh(dynamics: dynamics, reward: reward, buffer: buffer)
        #expect(largestDifference() < 1e-4)
    }

    @Test("the snapshot's vector-Jacobian product matches central differences of its step in every input")
    func snapshotBackwardMatchesFiniteDifferences() {
        let (buffer, dynamics, reward) = fittedPendulumModels(seed: 47)
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 64)
        let lanes = 16
        var rng = RandomSource(seed: 48)
        var obs = [Float](repeating: 0, count: 3 * lanes)
        buffer.sample(count: lanes, lanes: lanes, rng: &rng, obs: &obs)
        let action = (0..<lanes).map { _ in rng.nextUniform(-0.9, 0.9) }
        let noise = (0..<(3 * lanes)).map { _ in rng.nextGaussian() }
        let nextWeights = (0..<(3 * lanes)).map { _ in rng.nextGaussian() }
        let rewardWeights = (0..<lanes).map { _ in rng.nextGaussian() }
        // L = Σ nextWeights · next + Σ rewardWeights · reward, in Double.
        func loss(_ o: [Float], _ a: [Float]) -> [Double] {
            var next = [Float](repeating: 0, count: 3 * lanes), r = [Float](repeating: 0, count: lanes)
            world.step(member: 2, obs: o, action: a, noise: noise, lanes: lanes, nextObs: &next, reward: &r)
            var total = [Double](repeating: 0, count: lanes)
            for l in 0..<lanes {
                total[l] = Double(rewardWeights[l]) * Double(r[l])
                for d in 0..<3 { total[l] += Double(nextWeights[d * lanes + l]) * Double(next[d * lanes + l]) }
            }
            return total
        }
        var next = [Float](repeating: 0, count: 3 * lanes), r = [Float](repeating: 0, count: lanes)
        world.step(member: 2, obs: obs, action: action, noise: noise, lanes: lanes, nextObs: &next, reward: &r)
        var obsGrad = [Float](repeating: 0, count: 3 * lanes), actionGrad = [Float](repeating: 0, count: lanes)
        world.backward(nextObsGrad: nextWeights, rewardGrad: rewardWeights, lanes: lanes, obsGrad: &obsGrad,
                       actionGrad: &actionGrad)
        let h: Float = 1e-2
        var worst = 0.0
        for input in 0..<4 {
            var up = (obs, action), down = (obs, action)
            for l in 0..<lanes {
                if input < 3 { up.0[input * lanes + l] += h; down.0[input * lanes + l] -= h }
                else { up.1[l] += h; down.1[l] -= h }
            }
            let lossUp = loss(up.0, up.1), lossDown = loss(down.0, down.1)
            for l in 0..<lanes {
                let difference = (lossUp[l] - lossDown[l]) / Double(2 * h)
                let analytic = Double(input < 3 ? obsGrad[input * lanes + l] : actionGrad[l])
                worst = max(worst, abs(difference - analytic) / max(abs(analytic), 1))
            }
        }
        #expect(worst < 1e-3, "largest relative error \(worst)")
    }

    @Test("the closed-loop and open-loop one-step state Jacobians match central differences of the rollout")
    func stepJacobiansMatchFiniteDifferences() {
        let (estimator, buffer) = Self.learnedEstimator(seed: 49, horizon: 1)
        estimator.copyPolicy(from: pendulumPolicy(seed: 50, logStd: -1.5, outputScale: 1))
        var rng = RandomSource(seed: 51)
        let lanes = 16
        StartStateSampler(buffer: buffer).fill(count: lanes, lanes: lanes, rng: &rng, into: estimator.startStates)
        let start = Array(UnsafeBufferPointer(start: estimator.startStates, count: 3 * lanes))
        let noise = rng
        var replay = noise
        estimator.rollout(count: lanes, horizon: 1, rng: &replay)
        var open = [Double](repeating: 0, count: lanes * 9), closed = open
        estimator.stateJacobians(step: 0, open: &open, closed: &closed)
        let h: Float = 1e-2
        var worst = 0.0, policyEffect = 0.0
        for k in 0..<3 {
            var columns: [[Float]] = []
            for sign: Float in [1, -1] {
                for i in 0..<(3 * lanes) { estimator.startStates[i] = start[i] }
                for l in 0..<lanes { estimator.startStates[k * lanes + l] += sign * h }
                var replay = noise
                estimator.rollout(count: lanes, horizon: 1, rng: &replay)
                columns.append(Array(UnsafeBufferPointer(start: estimator.observations(step: 1), count: 3 * lanes)))
            }
            for l in 0..<lanes {
                for i in 0..<3 {
                    let difference = Double(columns[0][i * lanes + l] - columns[1][i * lanes + l]) / Double(2 * h)
                    let analytic = closed[(l * 3 + i) * 3 + k]
                    worst = max(worst, abs(difference - analytic) / max(abs(analytic), 1))
                    policyEffect = max(policyEffect, abs(analytic - open[(l * 3 + i) * 3 + k]))
                }
            }
        }
        #expect(worst < 1e-3, "largest relative error \(worst)")
        #expect(policyEffect > 1e-2)  // the policy term matters, so the test can tell open from closed loop
    }

    @Test("the likelihood-ratio estimator agrees with the pathwise one on a linear-Gaussian problem (means over 1,600 batches of 64 rollouts within 4 standard errors and 8%)")
    func likelihoodRatioIsUnbiased() {
        let world = LinearGaussianWorld()
        let estimator = ImaginedReturnGradient<_, 1, 1>(world: world, observationBounds: [2], actionLow: [-1],
                                                       actionHigh: [1], maxHorizon: 3, maxLanes: 64, gamma: 0.9)
        var policyRNG = RandomSource(seed: 52)
        estimator.copyPolicy(from: GaussianPolicy<1, 1>(observationBounds: [2], actionLow: [-1], actionHigh: [1],
                                                        initialLogStd: -1, hiddenGain: 1, outputScale: 0.5, maxLanes: 16,
                                                        rng: &policyRNG))
        let starts = StartStateSampler(buffer: bufferOfStates([[1]]) as TransitionBuffer<1, 1>)
        let store = estimator.policy.meanNetwork.parameters
        let coordinates = [store.count,                                        // log σ
                           estimator.policy.meanNetwork.l3.b - store.values,   // output bias: shifts μ
                           estimator.policy.meanNetwork.l1.w - store.values]   // a first-layer weight
        var rng = RandomSource(seed: 53)
        let batches = 1600
        var sums = [[Double]](repeating: [0, 0, 0, 0], count: coordinates.count)  // Σ pw, Σ pw², Σ lr, Σ lr²
        var pathwise = [Double](repeating: 0, count: estimator.parameterCount), likelihood = pathwise
        for _ in 0..<batches {
            starts.fill(count: 64, lanes: 64, rng: &rng, into: estimator.startStates)
            estimator.rollout(count: 64, horizon: 3, rng: &rng)
            estimator.pathwiseGradient(into: &pathwise)
            estimator.likelihoodRatioGradient(into: &likelihood)
            for (c, i) in coordinates.enumerated() {
                sums[c][0] += pathwise[i]; sums[c][1] += pathwise[i] * pathwise[i]
                sums[c][2] += likelihood[i]; sums[c][3] += likelihood[i] * likelihood[i]
            }
        }
        let n = Double(batches)
        for s in sums {
            let pw = s[0] / n, lr = s[2] / n
            let standardError = ((s[1] / n - pw * pw) / n + (s[3] / n - lr * lr) / n).squareRoot()
            #expect(standardError < 0.025 * abs(pw))  // a real signal, measured precisely enough to compare
            #expect(abs(lr - pw) <= 4 * standardError && abs(lr - pw) <= 0.08 * abs(pw),
                    "pathwise \(pw), likelihood ratio \(lr), standard error \(standardError)")
        }
    }

    @Test("a gradient diagnostic on the learned models changes no parameter, gradient or Adam state of f_psi, r_phi or the source policy")
    func diagnosticLeavesModelsUntouched() {
        let (buffer, dynamics, reward) = fittedPendulumModels(seed: 54)
        let source = pendulumPolicy(seed: 55, logStd: -0.7, outputScale: 0.01)
        let dynamicsBefore = ensembleState(dynamics.networks), rewardBefore = ensembleState(reward.networks)
        let policyStore = source.meanNetwork.parameters
        let policyBefore = Array(UnsafeBufferPointer(start: policyStore.values, count: 2 * policyStore.count))
        let world = LearnedModelSnapshot(dynamics: dynamics, reward: reward, buffer: buffer, maxLanes: 32)
        let estimator = ImaginedReturnGradient<_, 3, 1>(world: world, observationBounds: [1, 1, 8], actionLow: [-1],
                                                       actionHigh: [1], maxHorizon: 10, maxLanes: 32, gamma: 0.99)
        estimator.copyPolicy(from: source)
        var settings = GradientDiagnosticsSettings()
        settings.horizons = [2, 10]
        settings.starts = 32
        settings.batches = 3
        let report = GradientDiagnostics.run(estimator: estimator, starts: StartStateSampler(buffer: buffer),
                                             settings: settings)
        #expect(report.rows.count == 2 && report.rows.allSatisfy { $0.pathwise.gradNorm > 0 && $0.jacobianNorm > 0 })
        #expect(dynamicsBefore.contains { $0 != 0 } && rewardBefore.contains { $0 != 0 })
        #expect(ensembleState(dynamics.networks) == dynamicsBefore)
        #expect(ensembleState(reward.networks) == rewardBefore)
        #expect(Array(UnsafeBufferPointer(start: policyStore.values, count: 2 * policyStore.count)) == policyBefore)
    }
}
