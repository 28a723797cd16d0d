import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// A pendulum-shaped policy (3 observations, torque ±2).
func makePendulumPolicy(logStd: Float, maxLanes: Int = 64, seed: UInt64 = 1) -> GaussianPolicy<3, 1> {
    var rng = RandomSource(seed: seed)
    return GaussianPolicy<3, 1>(observationBounds: ExactPendulum.observationBounds,
                                actionLow: ExactPendulum.actionLow, actionHigh: ExactPendulum.actionHigh,
                                initialLogStd: logStd, hiddenGain: 1.4, outputScale: 1, maxLanes: maxLanes, rng: &rng)
}

@Suite("Gaussian policy")
struct PolicyTests {
    @Test("log-prob gradients with respect to the mean and log-std match central finite differences")
    func logProbGradient() {
        let lanes = 16
        var initRng = RandomSource(seed: 2)
        let policy = GaussianPolicy<2, 2>(observationBounds: [1, 1], actionLow: [-1, -3], actionHigh: [1, 1],
                                          initialLogStd: 0, hiddenGain: 1, outputScale: 1, maxLanes: lanes,
                                          rng: &initRng)
        policy.logStd.values[0] = 0.3
        policy.logStd.values[1] = -0.7
        var rng = RandomSource(seed: 5)
        let mu = allocateFloats(2 * lanes), u = allocateFloats(2 * lanes), weight = allocateFloats(lanes)
        let logProb = allocateFloats(lanes), meanGrad = allocateFloats(2 * lanes)
        defer { for p in [mu, u, weight, logProb, meanGrad] { p.deallocate() } }
        for i in 0..<(2 * lanes) { mu[i] = rng.nextUniform(-1, 1); u[i] = rng.nextUniform(-2, 2) }
        for l in 0..<lanes { weight[l] = rng.nextUniform(-1, 1) }
        // L = Σ_l w_l log π(u_l); quadratic in μ, smooth in log σ.
        func loss() -> Double {
            policy.logProb(mean: mu, actions: u, lanes: lanes, into: logProb)
            return (0..<lanes).reduce(0) { $0 + Double(weight[$1]) * Double(logProb[$1]) }
        }
        policy.zeroGrads()
        policy.logProbBackward(mean: mu, actions: u, logProbGrad: weight, lanes: lanes, meanGrad: meanGrad)
        let h: Float = 1e-2
        for i in 0..<(2 * lanes) {
            let saved = mu[i]
            mu[i] = saved + h; let up = loss()
            mu[i] = saved - h; let down = loss()
            mu[i] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(Double(meanGrad[i]) - numeric) < 2e-3 * max(1, abs(numeric)), "dμ[\(i)]")
        }
        for d in 0..<2 {
            let analytic = Double(policy.logStd.grads[d])
            let saved = policy.logStd.values[d]
            policy.logStd.values[d] = saved + h; let up = loss()
            policy.logStd.values[d] = saved - h; let down = loss()
            policy.logStd.values[d] = saved
            let numeric = (up - down) / Double(2 * h)
            #expect(abs(analytic - numeric) < 2e-3 * max(1, abs(numeric)), "dlogσ[\(d)]")
        }
        // And the value itself against the closed form for one lane.
        policy.logProb(mean: mu, actions: u, lanes: lanes, into: logProb)
        var expected: Double = 0
        for d in 0..<2 {
            let s = Double(policy.logStd.values[d]), z = Double(u[d * lanes + 3] - mu[d * lanes + 3]) / exp(s)
            expected += -0.5 * z * z - s - 0.5 * log(2 * Double.pi)
        }
        #expect(abs(Double(logProb[3]) - expected) < 1e-5)
    }

    @Test("entropy is Σ(log σ + ½ log 2πe) and its log-std gradient matches finite differences")
    func entropyGradient() {
        let policy = makePendulumPolicy(logStd: 0.25)
        #expect(abs(policy.entropy - (0.25 + 1.418_938_5)) < 1e-6)
        policy.zeroGrads()
        policy.addEntropyGradient(scale: 0.5)
        let h: Float = 1e-2
        policy.logStd.values[0] = 0.25 + h; let up = policy.entropy
        policy.logStd.values[0] = 0.25 - h; let down = policy.entropy
        #expect(abs(policy.logStd.grads[0] - 0.5 * (up - down) / (2 * h)) < 1e-4)
    }

    @Test("sampled actions have the policy's mean and σ in actuator units, and log-probs consistent with them")
    func samplingStatistics() {
        let lanes = 1024
        let policy = makePendulumPolicy(logStd: log(0.1), maxLanes: lanes)
        var rng = RandomSource(seed: 9)
        let x = allocateFloats(3 * lanes), u = allocateFloats(lanes), logProb = allocateFloats(lanes)
        let check = allocateFloats(lanes), plant = allocateFloats(lanes)
        defer { for p in [x, u, logProb, check, plant] { p.deallocate() } }
        for l in 0..<lanes { x[l] = 0.6; x[lanes + l] = -0.8; x[2 * lanes + l] = 0.25 }  // the same state
        let count = 1000
        policy.sample(input: x, count: count, lanes: lanes, rng: &rng, actions: u, logProb: logProb)
        let mu = policy.forwardMean(input: x, lanes: lanes)
        let mean0 = mu[0]
        policy.logProb(mean: mu, actions: u, lanes: lanes, into: check)
        var sum: Double = 0, sumSquares: Double = 0
        for l in 0..<count {
            sum += Double(u[l]); sumSquares += Double(u[l] - mean0) * Double(u[l] - mean0)
            #expect(abs(logProb[l] - check[l]) < 1e-4)
        }
        for l in count..<lanes { #expect(u[l] == 0 && logProb[l] == 0) }
        #expect(abs(sum / Double(count) - Double(mean0)) < 0.01)  // σ/√n = 0.003
        #expect(abs((sumSquares / Double(count)).squareRoot() - 0.1) < 0.01)
        // The plant sees 2·u (torque ±2), and the one-sample path agrees with the batched mean.
        policy.plantActions(u, into: plant, lanes: lanes)
        #expect(abs(plant[7] - 2 * u[7]) < 1e-6)
        let obs: [Float] = [0.6, -0.8, 2]  // θ̇ = 2 is 0.25 of its bound 8
        var action: Float = 0
        policy.mean(obs, into: &action)
        #expect(abs(action - 2 * mean0) < 1e-5)
    }

    @Test("actions sent to the plant stay within the actuator bounds even for a wide Gaussian")
    func actionsAreClipped() {
        let policy = makePendulumPolicy(logStd: log(3))
        var rng = RandomSource(seed: 3)
        let obs: [Float] = [-1, 0, 3]
        var atBound = 0
        for _ in 0..<2_000 {
            var action: Float = 0
            policy.act(obs, rng: &rng, into: &action)
            #expect(action >= -2 && action <= 2)
            if abs(action) == 2 { atBound += 1 }
        }
        // σ = 3 in normalized units: P(|u| > 1) ≈ 0.74 around a mean near 0.
        #expect(atBound > 1_300 && atBound < 1_650)
    }

    @Test("copyParameters makes two policies act identically for the same random stream")
    func copyParameters() {
        let learner = makePendulumPolicy(logStd: -0.5, seed: 11), control = makePendulumPolicy(logStd: 0, seed: 12)
        let obs: [Float] = [0.2, 0.98, -4]
        var a: Float = 0, b: Float = 0
        learner.mean(obs, into: &a); control.mean(obs, into: &b)
        #expect(a != b)
        control.copyParameters(from: learner)
        var rngA = RandomSource(seed: 4), rngB = RandomSource(seed: 4)
        for _ in 0..<10 {
            learner.act(obs, rng: &rngA, into: &a)
            control.act(obs, rng: &rngB, into: &b)
            #expect(a == b)
        }
    }
}
