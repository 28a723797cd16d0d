import EdgeCore
import Foundation
import Testing

/// Adam / AdamW for one scalar in Double, written from Kingma and Ba's algorithm with decoupled decay:
/// θ ← θ (1 − lr λ) − lr m̂ / (√v̂ + ε), the hyperparameters being the Float values the kernel uses.
///
/// It also carries a running first-order bound on the Float kernel's error in m, v and θ: every Float
/// operation adds u times its result's magnitude (u times each product's magnitude inside a sum), and
/// errors already present propagate through each formula's partial derivatives.
struct ScalarAdam {
    let lr, beta1, beta2, epsilon, decay: Double
    var m = 0.0, v = 0.0, t = 0
    var mBound = 0.0, vBound = 0.0, thetaBound = 0.0

    mutating func step(_ theta: Double, _ g: Double) -> Double {
        let u = floatRoundoff
        t += 1
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        // m: (1 − β1) g rounds, then the fused β1 m + that rounds; v likewise with g² (two products).
        mBound = beta1 * mBound + u * ((1 - beta1) * abs(g) + abs(m))
        vBound = beta2 * vBound + u * (2 * (1 - beta2) * g * g + abs(v))
        let c1 = 1 / (1 - pow(beta1, Double(t))), c2 = 1 / (1 - pow(beta2, Double(t)))
        let mHat = m * c1, vHat = v * c2
        // The Float corrections c1, c2 and the products round once each.
        let mHatBound = c1 * mBound + 2 * u * abs(mHat), vHatBound = c2 * vBound + 2 * u * vHat
        let root = vHat.squareRoot()
        let rootBound = (root > 0 ? vHatBound / (2 * root) : vHatBound.squareRoot()) + u * root
        let denominator = root + epsilon
        let update = mHat / denominator
        let updateBound = mHatBound / denominator + abs(update) * (rootBound + u * denominator) / denominator + u * abs(update)
        let next = theta * (1 - lr * decay) - lr * update
        // θ (1 − lr λ): the Float factor and the product round (2u |θ|); lr · update and the difference
        // round once each.
        thetaBound = thetaBound + lr * updateBound + 2 * u * abs(theta) + u * lr * abs(update) + u * abs(next)
        return next
    }
}

/// A store of 37 parameters (padded to 40) with random values.
func randomStore(seed: UInt64) -> ParameterStore {
    var rng = RandomSource(seed: seed)
    let store = ParameterStore(count: 37)
    for i in 0..<37 { store.values[i] = rng.nextUniform(-1, 1) }
    return store
}

@Suite("Adam and gradient clipping against scalar references")
struct AdamTests {
    @Test("five AdamW steps match a scalar Double reference in parameters and both moments, with and without weight decay")
    func matchesScalarReference() {
        for (lr, beta1, beta2, epsilon, decay) in [(Float(1e-2), Float(0.9), Float(0.999), Float(1e-8), Float(0.1)),
                                                   (1e-3, 0.9, 0.999, 1e-8, 0),
                                                   (3e-2, 0.5, 0.9, 1e-3, 0.01)] {
            let store = randomStore(seed: 61)
            let adam = Adam(store: store, learningRate: lr, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: decay)
            var refs = [ScalarAdam](repeating: ScalarAdam(lr: Double(lr), beta1: Double(beta1), beta2: Double(beta2),
                                                          epsilon: Double(epsilon), decay: Double(decay)), count: 37)
            var theta = (0..<37).map { Double(store.values[$0]) }
            var rng = RandomSource(seed: 62)
            var check = ToleranceCheck("Adam lr \(lr) betas \(beta1), \(beta2) eps \(epsilon) decay \(decay)")
            for step in 1...5 {
                for i in 0..<37 { store.grads[i] = i % 9 == 0 ? 0 : rng.nextUniform(-1, 1) }  // some zero gradients
                adam.step()
                for i in 0..<37 {
                    theta[i] = refs[i].step(theta[i], Double(store.grads[i]))
                    // Twice the running first-order bounds (second-order terms neglected).
                    check.check(Double(store.values[i]), theta[i], tolerance: 2 * refs[i].thetaBound, "step \(step) θ[\(i)]")
                    check.check(Double(adam.firstMoments[i]), refs[i].m, tolerance: 2 * refs[i].mBound, "step \(step) m[\(i)]")
                    check.check(Double(adam.secondMoments[i]), refs[i].v, tolerance: 2 * refs[i].vBound, "step \(step) v[\(i)]")
                }
            }
            check.expectPassed()
            #expect(adam.steps == 5)
            #expect((37..<40).allSatisfy { store.values[$0] == 0 }, "padding stays zero")
        }
    }

    @Test("the first step moves each parameter by lr · sign(g) (bias correction undoes the moment decay) after the decay factor")
    func firstStepIsSignStep() {
        let store = randomStore(seed: 63)
        for i in 0..<37 { store.grads[i] = i.isMultiple(of: 2) ? 0.5 : -2e-3 }
        let before = (0..<37).map { store.values[$0] }
        let adam = Adam(store: store, learningRate: 1e-2, weightDecay: 0.5)
        adam.step()
        for i in 0..<37 {
            let expected = Double(before[i]) * (1 - 1e-2 * 0.5) - 1e-2 * (i.isMultiple(of: 2) ? 1 : -1)
            // |g| ≥ 2e-3 ≫ ε, so m̂ / √v̂ = sign(g) up to ε / |g| = 5e-6 relative and a few roundings.
            #expect(abs(Double(store.values[i]) - expected) <= 1e-2 * 1e-5 + 4 * floatRoundoff, "θ[\(i)]")
        }
    }

    @Test("restoring moments and the step count continues bit for bit like an uninterrupted run")
    func restoreContinuesExactly() {
        let a = randomStore(seed: 64), b = randomStore(seed: 64)
        let adamA = Adam(store: a, learningRate: 1e-2, weightDecay: 1e-2)
        let adamB = Adam(store: b, learningRate: 1e-2, weightDecay: 1e-2)
        var rng = RandomSource(seed: 65)
        let grads = (0..<5).map { _ in (0..<37).map { _ in rng.nextUniform(-1, 1) } }
        for s in 0..<3 {
            for i in 0..<37 { a.grads[i] = grads[s][i]; b.grads[i] = grads[s][i] }
            adamA.step(); adamB.step()
        }
        // Checkpoint B and resume it in a fresh optimizer.
        let resumed = Adam(store: b, learningRate: 1e-2, weightDecay: 1e-2)
        resumed.firstMoments.update(from: adamB.firstMoments, count: b.count)
        resumed.secondMoments.update(from: adamB.secondMoments, count: b.count)
        resumed.restore(steps: adamB.steps)
        for s in 3..<5 {
            for i in 0..<37 { a.grads[i] = grads[s][i]; b.grads[i] = grads[s][i] }
            adamA.step(); resumed.step()
        }
        #expect((0..<40).allSatisfy { a.values[$0] == b.values[$0] })
        #expect(resumed.steps == 5)
    }

    @Test("gradNorm is the Double L2 norm, and clipGradNorm scales to exactly the limit only when the norm exceeds it")
    func clipping() {
        let store = ParameterStore(count: 37)
        store.grads[0] = 3; store.grads[36] = 4
        #expect(store.gradNorm() == 5)
        #expect(store.clipGradNorm(1) == 5)
        #expect(store.grads[0] == 0.6 && store.grads[36] == 0.8)

        var rng = RandomSource(seed: 66)
        for i in 0..<37 { store.grads[i] = rng.nextUniform(-2, 2) }
        let g = (0..<37).map { Double(store.grads[$0]) }
        let exact = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        // Accumulated in Double, rounded once to Float.
        #expect(abs(Double(store.gradNorm()) - exact) <= floatRoundoff * exact)
        let before = (0..<37).map { store.grads[$0] }
        #expect(store.clipGradNorm(Float(exact) * 2) == store.gradNorm(), "returns the norm")
        #expect((0..<37).allSatisfy { store.grads[$0] == before[$0] }, "below the limit nothing changes")
        let norm = store.clipGradNorm(1.5)
        #expect(abs(Double(norm) - exact) <= floatRoundoff * exact, "returns the norm before clipping")
        // Scale factor, product and norm each round once.
        #expect(abs(Double(store.gradNorm()) - 1.5) <= 4 * floatRoundoff * 1.5)
        let scale = Float(1.5) / norm
        #expect((0..<37).allSatisfy { store.grads[$0] == before[$0] * scale }, "every gradient scaled by one factor")
        #expect((37..<40).allSatisfy { store.grads[$0] == 0 }, "padding stays zero")
    }

    @Test("a NaN or infinite gradient makes the norm non-finite and clipGradNorm leaves the gradients as they are")
    func nonFiniteGradients() {
        let store = ParameterStore(count: 9)
        store.grads[0] = 1; store.grads[1] = .nan
        #expect(store.clipGradNorm(0.5).isNaN)
        #expect(store.grads[0] == 1)
        store.grads[1] = .infinity
        #expect(store.clipGradNorm(0.5) == .infinity)
        #expect(store.grads[0] == 1)
    }

    @Test("zeroGrads clears gradients only, copyValues copies values only, and layouts hand out vector-aligned blocks")
    func storeBasics() {
        let a = randomStore(seed: 67), b = ParameterStore(count: 37)
        for i in 0..<37 { a.grads[i] = 1; b.grads[i] = 2 }
        b.copyValues(from: a)
        #expect((0..<40).allSatisfy { b.values[$0] == a.values[$0] && b.grads[$0] == ($0 < 37 ? 2 : 0) })
        a.zeroGrads()
        #expect((0..<40).allSatisfy { a.grads[$0] == 0 } && a.values[0] != 0)
        #expect(a.count == 40 && a.grads == a.values + 40)
        var layout = ParameterLayout()
        #expect(layout.reserve(3) == 0 && layout.reserve(8) == 8 && layout.reserve(9) == 16 && layout.count == 32)
    }
}
