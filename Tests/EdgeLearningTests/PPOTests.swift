import EdgeCore
import EdgeLearning
import Foundation
import Testing

@Suite("PPO")
struct PPOTests {
    /// A small PPO for loss checks: 2 action dimensions, so the log-std gradient sums over two terms.
    static func smallPPO(_ configure: (inout Hyperparameters) -> Void) -> PPO<3, 2> {
        var h = Hyperparameters()
        h.rollouts = 16; h.horizon = 4; h.minibatchSize = 64
        configure(&h)
        var rng = RandomSource(seed: 21)
        return PPO<3, 2>(observationBounds: [1, 1, 1], actionLow: [-1, -1], actionHigh: [1, 1], hyperparameters: h,
                         rng: &rng)
    }

    @Test("the clipped-surrogate loss gradient w.r.t. the mean-net output and log-std matches finite differences")
    func policyLossGradient() {
        let ppo = Self.smallPPO { $0.clipRange = 0.2; $0.entropyCoefficient = 0.05 }
        let policy = ppo.policy
        policy.logStd.values[0] = -0.2
        policy.logStd.values[1] = 0.4
        let lanes = 32, n = 29
        var rng = RandomSource(seed: 8)
        let mu = allocateFloats(2 * lanes), u = allocateFloats(2 * lanes), oldLogProb = allocateFloats(lanes)
        let advantages = allocateFloats(lanes), meanGrad = allocateFloats(2 * lanes), scratch = allocateFloats(2 * lanes)
        let logProb = allocateFloats(lanes)
        defer { for p in [mu, u, oldLogProb, advantages, meanGrad, scratch, logProb] { p.deallocate() } }
        for i in 0..<(2 * lanes) { mu[i] = rng.nextUniform(-0.5, 0.5); u[i] = rng.nextUniform(-1.5, 1.5) }
        // Ratios chosen well away from the clip edges 0.8 and 1.2, with advantages of both signs.
        let ratios: [Float] = [0.5, 0.7, 0.9, 1.0, 1.1, 1.3, 1.6]
        policy.logProb(mean: mu, actions: u, lanes: lanes, into: logProb)
        for l in 0..<lanes {
            oldLogProb[l] = logProb[l] - log(ratios[l % ratios.count])
            advantages[l] = (l / ratios.count) % 2 == 0 ? rng.nextUniform(0.2, 2) : -rng.nextUniform(0.2, 2)
        }
        func loss() -> Double {
            Double(ppo.policyLoss(mean: mu, actions: u, oldLogProb: oldLogProb, advantages: advantages, count: n,
                                  lanes: lanes, meanGrad: scratch).loss)
        }
        policy.zeroGrads()
        let report = ppo.policyLoss(mean: mu, actions: u, oldLogProb: oldLogProb, advantages: advantages, count: n,
                                    lanes: lanes, meanGrad: meanGrad)
        let logStdGrad = [policy.logStd.grads[0], policy.logStd.grads[1]]

        // The loss, KL and clip fraction against a direct computation.
        var expectedLoss: Double = 0, expectedKL: Double = 0, clipped = 0
        for l in 0..<n {
            let r = Double(ratios[l % ratios.count]), a = Double(advantages[l])
            expectedLoss -= min(r * a, min(max(r, 0.8), 1.2) * a)
            expectedKL += (r - 1) - log(r)
            if r < 0.8 || r > 1.2 { clipped += 1 }
        }
        let entropy = Double(policy.entropy)
        #expect(abs(Double(report.loss) - (expectedLoss / Double(n) - 0.05 * entropy)) < 1e-4)
        #expect(abs(Double(report.approxKL) - expectedKL / Double(n)) < 1e-4)
        #expect(abs(report.clipFraction - Float(clipped) / Float(n)) < 1e-6)

        // dL/dμ: central differences, every lane; clipped samples (ratio outside the range on the side the
        // advantage pushes) have exactly zero gradient, and so do padding lanes.
        let h: Float = 1e-3
        var zeroGradientLanes = 0
        for d in 0..<2 {
            for l in 0..<lanes {
                let i = d * lanes + l
                let saved = mu[i]
                mu[i] = saved + h; let up = loss()
                mu[i] = saved - h; let down = loss()
                mu[i] = saved
                let numeric = (up - down) / Double(2 * h)
                #expect(abs(Double(meanGrad[i]) - numeric) < 2e-3, "dμ[\(d)][\(l)]")
                if meanGrad[i] == 0 { zeroGradientLanes += 1 }
            }
        }
        // Per dimension: 3 padding lanes, plus clipped ones (ratio 0.5/0.7 with A < 0, 1.3/1.6 with A > 0).
        #expect(zeroGradientLanes >= 2 * (3 + 6))
        for d in 0..<2 {
            let saved = policy.logStd.values[d]
            policy.logStd.values[d] = saved + h; let up = loss()
            policy.logStd.values[d] = saved - h; let down = loss()
            policy.logStd.values[d] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(Double(logStdGrad[d]) - numeric) < 2e-3 * max(1, abs(numeric)), "dlogσ[\(d)]")
        }
    }

    @Test("the clipped value loss gradient matches finite differences")
    func valueLossGradient() {
        let ppo = Self.smallPPO { $0.valueClipRange = 0.3 }
        let lanes = 32, n = 27
        var rng = RandomSource(seed: 13)
        let v = allocateFloats(lanes), r = allocateFloats(lanes), old = allocateFloats(lanes)
        let grad = allocateFloats(lanes), scratch = allocateFloats(lanes)
        defer { for p in [v, r, old, grad, scratch] { p.deallocate() } }
        let offsets: [Float] = [-0.6, -0.1, 0.1, 0.6]
        for l in 0..<lanes {
            v[l] = rng.nextUniform(-2, 2)
            old[l] = v[l] - offsets[l % 4]
            r[l] = rng.nextUniform(-2, 2)
        }
        let loss = ppo.valueLoss(predicted: v, returns: r, oldValues: old, count: n, lanes: lanes, valueGrad: grad)
        var expected: Double = 0
        for l in 0..<n {
            let clippedValue = old[l] + min(max(v[l] - old[l], -0.3), 0.3)
            expected += Double(max((v[l] - r[l]) * (v[l] - r[l]), (clippedValue - r[l]) * (clippedValue - r[l])))
        }
        #expect(abs(Double(loss) - 0.5 * expected / Double(n)) < 1e-5)
        let h: Float = 1e-3
        var checked = 0
        for l in 0..<lanes {
            let clippedValue = old[l] + min(max(v[l] - old[l], -0.3), 0.3)
            if abs(r[l] - (v[l] + clippedValue) / 2) < 0.01 { continue }  // the max's kink
            let saved = v[l]
            v[l] = saved + h
            let up = ppo.valueLoss(predicted: v, returns: r, oldValues: old, count: n, lanes: lanes, valueGrad: scratch)
            v[l] = saved - h
            let down = ppo.valueLoss(predicted: v, returns: r, oldValues: old, count: n, lanes: lanes, valueGrad: scratch)
            v[l] = saved
            #expect(abs(grad[l] - (up - down) / (2 * h)) < 1e-3, "dV[\(l)]")
            checked += 1
        }
        #expect(checked >= lanes - 2)
    }

    @Test("PPO on exact Pendulum-v1 dynamics raises the imagined return from the initial policy's")
    func learnsPendulumInImagination() {
        let learner = PendulumLearner(seed: 7)
        var rng = RandomSource(seed: 77)
        let before = learner.evaluate()
        var last = learner.iterate(rng: &rng)
        for _ in 1..<80 { last = learner.iterate(rng: &rng) }
        let after = learner.evaluate()
        // Measured (seed 7, x86-64): −150.6 before, −111.3 after 80 iterations; seeds 1-6 gain 40 to 48.
        #expect(before < -140)
        #expect(after > before + 30)
        #expect(after > -125)
        #expect(last.ppo.samples == 4_000 && last.ppo.minibatchUpdates == 20)
        #expect(last.ppo.explainedVariance > 0.5)
        #expect(last.ppo.approxKL > 0 && last.ppo.approxKL < 0.1)
    }

    @Test("the same seed gives bit-identical policies, a different seed does not")
    func deterministicForASeed() {
        var h = Hyperparameters()
        h.rollouts = 32; h.horizon = 10; h.minibatchSize = 64; h.epochs = 2
        func train(seed: UInt64) -> [Float] {
            let learner = PendulumLearner(hyperparameters: h, seed: 3)
            var rng = RandomSource(seed: seed)
            for _ in 0..<3 { _ = learner.iterate(rng: &rng) }
            let store = learner.ppo.policy.meanNetwork.parameters
            return Array(UnsafeBufferPointer(start: store.values, count: store.count))
                + [learner.ppo.policy.logStd.values[0]]
                + Array(UnsafeBufferPointer(start: learner.ppo.value.network.parameters.values,
                                            count: learner.ppo.value.network.parameters.count))
        }
        let a = train(seed: 5), b = train(seed: 5), c = train(seed: 6)
        #expect(a == b)
        #expect(a != c)
    }
}
