import EdgeCore
import Testing

/// A Dense layer in its own parameter store, between two guard blocks filled with `guardValue` that no
/// kernel may touch. Weights random, biases random (not the zero `initialize` gives), prior gradients
/// random so the tests see that backward adds into them.
final class DenseFixture<let In: Int, let Out: Int> {
    static var guardValue: Float { 7.5 }
    let store: ParameterStore
    let layer: Dense<In, Out>
    let offset: Int
    let before: Int, after: Int

    init(seed: UInt64) {
        var layout = ParameterLayout()
        before = layout.reserve(3)
        offset = layout.reserve(Dense<In, Out>.parameterCount)
        after = layout.reserve(5)
        store = ParameterStore(count: layout.count)
        layer = Dense<In, Out>(store: store, offset: offset)
        for i in 0..<vecWidth {
            for p in [store.values, store.grads] { p[before + i] = Self.guardValue; p[after + i] = Self.guardValue }
        }
        var rng = RandomSource(seed: seed)
        layer.initialize(rng: &rng)
        for o in 0..<Out { layer.b[o] = rng.nextUniform(-0.5, 0.5) }
        for i in 0..<In { for o in 0..<Out { layer.gw[i * Dense<In, Out>.outPad + o] = rng.nextUniform(-1, 1) } }
        for o in 0..<Out { layer.gb[o] = rng.nextUniform(-1, 1) }
    }

    /// Values and gradients of the guard blocks and of every padding entry (column o ≥ Out of each
    /// weight row, bias o ≥ Out) that differ from what they must be.
    func untouchedViolations() -> Int {
        var bad = 0
        for i in 0..<vecWidth {
            for p in [store.values, store.grads] where p[before + i] != Self.guardValue || p[after + i] != Self.guardValue { bad += 1 }
        }
        let op = Dense<In, Out>.outPad
        for o in Out..<op {
            for i in 0..<In where layer.w[i * op + o] != 0 || layer.gw[i * op + o] != 0 { bad += 1 }
            if layer.b[o] != 0 || layer.gb[o] != 0 { bad += 1 }
        }
        return bad
    }

    /// The current gradients as exact starting terms of the reference sums.
    func priorGradients() -> (w: [Bounded], b: [Bounded]) {
        var w: [Bounded] = []
        for i in 0..<In { for o in 0..<Out { w.append(Bounded(Double(layer.weightGrad(i, o)))) } }
        return (w, (0..<Out).map { Bounded(Double(layer.gb[$0])) })
    }

    func checkGradients(_ w: [Bounded], _ b: [Bounded], _ check: inout ToleranceCheck) {
        for i in 0..<In {
            for o in 0..<Out {
                let r = w[i * Out + o]
                check.check(Double(layer.weightGrad(i, o)), r.value, tolerance: 2 * r.bound, "dW[\(i)][\(o)]")
            }
        }
        for o in 0..<Out { check.check(Double(layer.gb[o]), b[o].value, tolerance: 2 * b[o].bound, "db[\(o)]") }
    }
}

/// One-sample forward and backward of Dense<In, Out> against the Double reference; every tolerance is
/// twice the first-order error bound of `ReferenceDense` (at most about (n + 2) · 6e-8 of the summed
/// magnitudes, n the dot-product length).
func checkDenseOneSample<let In: Int, let Out: Int>(_: Dense<In, Out>.Type, seed: UInt64) -> (ToleranceCheck, Int) {
    let f = DenseFixture<In, Out>(seed: seed)
    let ref = ReferenceDense(f.layer)
    var rng = RandomSource(seed: seed &+ 100)
    let op = Dense<In, Out>.outPad
    let x = FloatBuffer(In); x.fillUniform(&rng, -1, 1)
    let z = FloatBuffer(op + vecWidth)
    for o in op..<(op + vecWidth) { z[o] = 9 }
    var check = ToleranceCheck("Dense<\(In), \(Out)> one sample")
    var untouched = 0

    f.layer.forward(x.pointer, z.pointer)
    let xb = (0..<In).map { Bounded(Double(x[$0])) }
    let zr = ref.forward(xb)
    for o in 0..<Out { check.check(Double(z[o]), zr[o].value, tolerance: 2 * zr[o].bound, "z[\(o)]") }
    for o in Out..<op where z[o] != 0 { untouched += 1 }             // padding outputs are exactly zero
    for o in op..<(op + vecWidth) where z[o] != 9 { untouched += 1 }  // nothing written past outPad

    let dz = FloatBuffer(op); dz.fillUniform(&rng, -1, 1, count: Out)
    let dx = FloatBuffer(In + vecWidth)
    for i in In..<(In + vecWidth) { dx[i] = 9 }
    let prior = f.priorGradients()
    f.layer.backward(x.pointer, dz.pointer, dx.pointer)
    let g = ref.backward(xb, (0..<Out).map { Bounded(Double(dz[$0])) })
    f.checkGradients((0..<(In * Out)).map { boundedSum([prior.w[$0], g.gw[$0]]) },
                     (0..<Out).map { boundedSum([prior.b[$0], g.gb[$0]]) }, &check)
    for i in 0..<In { check.check(Double(dx[i]), g.dx[i].value, tolerance: 2 * g.dx[i].bound, "dx[\(i)]") }
    for i in In..<(In + vecWidth) where dx[i] != 9 { untouched += 1 }
    return (check, untouched + f.untouchedViolations())
}

/// Batched forward and backward of Dense<In, Out> with samples in `lanes` lanes, each lane against the
/// same Double reference; parameter gradients are the prior values plus the sum over lanes.
func checkDenseBatch<let In: Int, let Out: Int>(_: Dense<In, Out>.Type, lanes: Int, seed: UInt64) -> (ToleranceCheck, Int) {
    let f = DenseFixture<In, Out>(seed: seed)
    let ref = ReferenceDense(f.layer)
    var rng = RandomSource(seed: seed &+ 200)
    let x = FloatBuffer(In * lanes); x.fillUniform(&rng, -1, 1)
    let z = FloatBuffer(Out * lanes + vecWidth)
    for j in 0..<vecWidth { z[Out * lanes + j] = 9 }
    var check = ToleranceCheck("Dense<\(In), \(Out)> batch of \(lanes)")
    var untouched = 0

    f.layer.forward(batch: x.pointer, z.pointer, lanes: lanes)
    let dz = FloatBuffer(Out * lanes); dz.fillUniform(&rng, -1, 1)
    let dx = FloatBuffer(In * lanes + vecWidth)
    for j in 0..<vecWidth { dx[In * lanes + j] = 9 }
    let prior = f.priorGradients()
    f.layer.backward(batch: x.pointer, dz.pointer, dx.pointer, lanes: lanes)

    var gw: [[Bounded]] = [prior.w], gb: [[Bounded]] = [prior.b]
    for l in 0..<lanes {
        let xb = (0..<In).map { Bounded(Double(x[$0 * lanes + l])) }
        let zr = ref.forward(xb)
        for o in 0..<Out {
            check.check(Double(z[o * lanes + l]), zr[o].value, tolerance: 2 * zr[o].bound, "z[\(o)][lane \(l)]")
        }
        let g = ref.backward(xb, (0..<Out).map { Bounded(Double(dz[$0 * lanes + l])) })
        for i in 0..<In {
            check.check(Double(dx[i * lanes + l]), g.dx[i].value, tolerance: 2 * g.dx[i].bound, "dx[\(i)][lane \(l)]")
        }
        gw.append(g.gw); gb.append(g.gb)
    }
    f.checkGradients((0..<(In * Out)).map { j in boundedSum(gw.map { $0[j] }) },
                     (0..<Out).map { j in boundedSum(gb.map { $0[j] }) }, &check)
    for j in 0..<vecWidth where z[Out * lanes + j] != 9 || dx[In * lanes + j] != 9 { untouched += 1 }
    return (check, untouched + f.untouchedViolations())
}

@Suite("Dense layer kernels against a Double reference")
struct DenseTests {
    @Test("one-sample forward, parameter gradients and input gradient match the reference for six shapes; padding and neighbours untouched")
    func oneSample() {
        let results = [checkDenseOneSample(Dense<4, 64>.self, seed: 1), checkDenseOneSample(Dense<64, 64>.self, seed: 2),
                       checkDenseOneSample(Dense<64, 1>.self, seed: 3), checkDenseOneSample(Dense<3, 5>.self, seed: 4),
                       checkDenseOneSample(Dense<7, 13>.self, seed: 5), checkDenseOneSample(Dense<13, 2>.self, seed: 6)]
        for (check, untouched) in results {
            check.expectPassed()
            #expect(untouched == 0, "\(check.label): \(untouched) padding or guard entries changed")
        }
    }

    @Test("batched forward and backward match the reference in every lane for 16, 32 and 64 lanes")
    func batched() {
        for lanes in [16, 32, 64] {
            let results = [checkDenseBatch(Dense<4, 64>.self, lanes: lanes, seed: 11), checkDenseBatch(Dense<64, 64>.self, lanes: lanes, seed: 12),
                           checkDenseBatch(Dense<64, 1>.self, lanes: lanes, seed: 13), checkDenseBatch(Dense<3, 5>.self, lanes: lanes, seed: 14),
                           checkDenseBatch(Dense<7, 13>.self, lanes: lanes, seed: 15), checkDenseBatch(Dense<13, 2>.self, lanes: lanes, seed: 16)]
            for (check, untouched) in results {
                check.expectPassed()
                #expect(untouched == 0, "\(check.label): \(untouched) padding or guard entries changed")
            }
        }
    }

    @Test("layer sizes: outputs padded to the vector width, parameters = In · outPad + outPad")
    func sizes() {
        #expect(Dense<4, 64>.outPad == 64 && Dense<4, 64>.parameterCount == 4 * 64 + 64)
        #expect(Dense<64, 1>.outPad == 8 && Dense<64, 1>.parameterCount == 64 * 8 + 8)
        #expect(Dense<7, 13>.outPad == 16 && Dense<7, 13>.parameterCount == 7 * 16 + 16)
        #expect(paddedToVec(0) == 0 && paddedToVec(1) == 8 && paddedToVec(8) == 8 && paddedToVec(9) == 16)
    }

    @Test("initialize draws weights in ±scale/√In and zeroes the biases")
    func initialization() {
        let f = DenseFixture<16, 5>(seed: 3)
        var rng = RandomSource(seed: 4)
        f.layer.initialize(rng: &rng, scale: 2)
        var weights: [Float] = []
        for i in 0..<16 { for o in 0..<5 { weights.append(f.layer.weight(i, o)) } }
        #expect(weights.allSatisfy { abs($0) <= 0.5 }, "bound 2/√16 = 0.5")
        #expect(weights.max()! > 0.4 && weights.min()! < -0.4, "80 draws spread over the whole interval")
        #expect((0..<5).allSatisfy { f.layer.b[$0] == 0 })
        #expect(f.untouchedViolations() == 0)
    }
}
