import EdgeCore
import EdgeLearning
import Testing

@Suite("GAE")
struct GAETests {
    @Test("advantages and returns match a hand-computed example, with a rollout cut after two steps")
    func handComputedExampleWithTruncation() {
        let steps = 3, lanes = 16
        let rewards = allocateFloats(steps * lanes), values = allocateFloats((steps + 1) * lanes)
        let valid = allocateFloats(steps * lanes)
        let advantages = allocateFloats(steps * lanes), returns = allocateFloats(steps * lanes)
        defer { for p in [rewards, values, valid, advantages, returns] { p.deallocate() } }
        func set(_ p: UnsafeMutablePointer<Float>, lane: Int, _ xs: [Float]) {
            for (t, x) in xs.enumerated() { p[t * lanes + lane] = x }
        }
        // Lane 0 runs all three steps, then bootstraps from V(s_3) = 2.
        set(rewards, lane: 0, [1, 2, 3]); set(values, lane: 0, [0.5, 1, 1.5, 2]); set(valid, lane: 0, [1, 1, 1])
        // Lane 1 is cut after two steps: step 1 bootstraps from V(s_2) = 1.5; step 2's data (even NaN) is ignored.
        set(rewards, lane: 1, [1, 2, .nan]); set(values, lane: 1, [0.5, 1, 1.5, .nan]); set(valid, lane: 1, [1, 1, 0])

        GAE.compute(rewards: rewards, values: values, valid: valid, steps: steps, lanes: lanes, gamma: 0.9, lambda: 0.8,
                    advantages: advantages, returns: returns)

        // γλ = 0.72. Lane 0: δ = (1.4, 2.35, 3.3); A_2 = 3.3, A_1 = 2.35 + 0.72·3.3, A_0 = 1.4 + 0.72·A_1.
        let expected0: [Float] = [4.80272, 4.726, 3.3]
        // Lane 1: δ_1 = 2 + 0.9·1.5 − 1 = 2.35 (no advantage flows back from the dropped step), A_0 = 1.4 + 0.72·2.35.
        let expected1: [Float] = [3.092, 2.35, 0]
        for t in 0..<steps {
            #expect(abs(advantages[t * lanes] - expected0[t]) < 1e-5)
            #expect(abs(returns[t * lanes] - (expected0[t] + values[t * lanes])) < 1e-5)
            #expect(abs(advantages[t * lanes + 1] - expected1[t]) < 1e-5)
        }
        #expect(abs(returns[1] - 3.592) < 1e-5)
        #expect(abs(returns[lanes + 1] - 3.35) < 1e-5)
        #expect(returns[2 * lanes + 1] == 0)
        for t in 0..<steps { for l in 2..<lanes { #expect(advantages[t * lanes + l] == 0) } }
    }

    @Test("with λ = 1 and γ = 1 the advantage is the reward-to-go plus bootstrap minus the value")
    func monteCarloLimit() {
        let steps = 4, lanes = 16
        let rewards = allocateFloats(steps * lanes), values = allocateFloats((steps + 1) * lanes)
        let valid = allocateFloats(steps * lanes)
        let advantages = allocateFloats(steps * lanes), returns = allocateFloats(steps * lanes)
        defer { for p in [rewards, values, valid, advantages, returns] { p.deallocate() } }
        let r: [Float] = [0.5, -1, 2, 0.25], v: [Float] = [3, -2, 0.5, 1, 4]
        for t in 0..<steps { rewards[t * lanes + 5] = r[t]; valid[t * lanes + 5] = 1 }
        for t in 0...steps { values[t * lanes + 5] = v[t] }
        GAE.compute(rewards: rewards, values: values, valid: valid, steps: steps, lanes: lanes, gamma: 1, lambda: 1,
                    advantages: advantages, returns: returns)
        for t in 0..<steps {
            let toGo = r[t...].reduce(0, +) + v[steps]
            #expect(abs(returns[t * lanes + 5] - toGo) < 1e-5)
            #expect(abs(advantages[t * lanes + 5] - (toGo - v[t])) < 1e-5)
        }
    }
}
