import EdgeCore
import Testing

/// Store indices of every padding entry of an MLP's parameter store: weight columns o ≥ Out, biases
/// o ≥ Out, and the tail after the last layer.
func paddingIndices<let I: Int, let H: Int, let O: Int, A: Activation>(_ net: MLP<I, H, O, A>) -> [Int] {
    let base = net.parameters.values
    var real = Set<Int>()
    func mark<let LI: Int, let LO: Int>(_ l: Dense<LI, LO>) {
        let w = l.w - base, b = l.b - base
        for i in 0..<LI { for o in 0..<LO { real.insert(w + i * Dense<LI, LO>.outPad + o) } }
        for o in 0..<LO { real.insert(b + o) }
    }
    mark(net.l1); mark(net.l2); mark(net.l3)
    return (0..<net.parameters.count).filter { !real.contains($0) }
}

/// Row-major samples x[s][d] uniform in [-1, 1).
func randomSamples(_ count: Int, _ features: Int, seed: UInt64) -> [[Float]] {
    var rng = RandomSource(seed: seed)
    return (0..<count).map { _ in (0..<features).map { _ in rng.nextUniform(-1, 1) } }
}

/// Writes samples into a [features][lanes] buffer (unused lanes stay zero).
func laneMajor(_ samples: [[Float]], features: Int, lanes: Int) -> FloatBuffer {
    let b = FloatBuffer(features * lanes)
    for (l, s) in samples.enumerated() { for d in 0..<features { b[d * lanes + l] = s[d] } }
    return b
}

/// One-sample and batched passes of one MLP against the Double reference, and against each other.
/// Tolerances are twice the first-order bounds of `ReferenceMLP` (Float dot products plus the fast
/// activations' stated errors); agreement between the two layouts allows the sum of both bounds.
func checkMLP<let I: Int, let H: Int, let O: Int, A: Activation>(_: MLP<I, H, O, A>.Type, seed: UInt64) -> [ToleranceCheck] {
    var rng = RandomSource(seed: seed)
    let net = MLP<I, H, O, A>(rng: &rng, maxLanes: 64)
    for o in 0..<H { net.l1.b[o] = rng.nextUniform(-0.3, 0.3); net.l2.b[o] = rng.nextUniform(-0.3, 0.3) }
    for o in 0..<O { net.l3.b[o] = rng.nextUniform(-0.3, 0.3) }
    let ref = ReferenceMLP(net)
    let name = "MLP<\(I), \(H), \(O), \(A.name)>"
    var checks: [ToleranceCheck] = []

    // One sample at a time: three samples, gradients accumulating, input gradient of each.
    let samples = randomSamples(3, I, seed: seed &+ 1)
    let outputGrads = randomSamples(3, O, seed: seed &+ 2)
    var one = ToleranceCheck("\(name) one sample")
    var kinkSafe = true
    var perSample: [ReferenceMLP.Gradients] = []
    var oneSampleY: [[Float]] = []
    net.parameters.zeroGrads()
    for (x, dy) in zip(samples, outputGrads) {
        let xb = FloatBuffer(x), dyb = FloatBuffer(dy), dx = FloatBuffer(I)
        let y = net.forward(xb.pointer)
        oneSampleY.append((0..<O).map { y[$0] })
        net.backward(xb.pointer, outputGrad: dyb.pointer, inputGrad: dx.pointer)
        let t = ref.forward(x)
        kinkSafe = kinkSafe && t.kinkSafe
        for o in 0..<O { one.check(Double(y[o]), t.y[o].value, tolerance: 2 * t.y[o].bound, "y[\(o)]") }
        let g = ref.backward(t, outputGrad: dy)
        for d in 0..<I { one.check(Double(dx[d]), g.dx[d].value, tolerance: 2 * g.dx[d].bound, "dx[\(d)]") }
        perSample.append(g)
    }
    let oneSampleGrads = ReferenceMLP.sum(perSample)
    checkGradients(net, oneSampleGrads, &one)
    let kernelOneSampleGrads = (0..<net.parameters.count).map { net.parameters.grads[$0] }
    checks.append(one)

    // Batches of 16, 32 and 64 lanes.
    for lanes in [16, 32, 64] {
        var batch = ToleranceCheck("\(name) batch of \(lanes)")
        let xs = randomSamples(lanes, I, seed: seed &+ UInt64(lanes))
        let dys = randomSamples(lanes, O, seed: seed &+ UInt64(lanes) &+ 1000)
        let x = laneMajor(xs, features: I, lanes: lanes), dy = laneMajor(dys, features: O, lanes: lanes)
        let dx = FloatBuffer(I * lanes)
        net.parameters.zeroGrads()
        let y = net.forward(batch: x.pointer, lanes: lanes)
        net.backward(batch: x.pointer, outputGrad: dy.pointer, lanes: lanes, inputGrad: dx.pointer)
        var lanesGrads: [ReferenceMLP.Gradients] = []
        for l in 0..<lanes {
            let t = ref.forward(xs[l])
            kinkSafe = kinkSafe && t.kinkSafe
            for o in 0..<O { batch.check(Double(y[o * lanes + l]), t.y[o].value, tolerance: 2 * t.y[o].bound, "y[\(o)][lane \(l)]") }
            let g = ref.backward(t, outputGrad: dys[l])
            for d in 0..<I { batch.check(Double(dx[d * lanes + l]), g.dx[d].value, tolerance: 2 * g.dx[d].bound, "dx[\(d)][lane \(l)]") }
            lanesGrads.append(g)
        }
        checkGradients(net, ReferenceMLP.sum(lanesGrads), &batch)
        checks.append(batch)
    }

    // The first three samples as a batch (lanes 3..<16 empty, zero output gradient) give the same
    // outputs and gradients as the one-sample passes.
    var agree = ToleranceCheck("\(name) batch of 3 in 16 lanes vs one sample")
    let x = laneMajor(samples, features: I, lanes: 16), dy = laneMajor(outputGrads, features: O, lanes: 16)
    net.parameters.zeroGrads()
    let y = net.forward(batch: x.pointer, lanes: 16)
    net.backward(batch: x.pointer, outputGrad: dy.pointer, lanes: 16)
    for s in 0..<3 {
        let t = ref.forward(samples[s])
        for o in 0..<O { agree.check(Double(y[o * 16 + s]), Double(oneSampleY[s][o]), tolerance: 4 * t.y[o].bound, "y[\(o)] sample \(s)") }
    }
    let padding = Set(paddingIndices(net))
    for p in 0..<net.parameters.count where !padding.contains(p) {
        let bound = storeBound(net, oneSampleGrads, index: p)
        agree.check(Double(net.parameters.grads[p]), Double(kernelOneSampleGrads[p]), tolerance: 4 * bound, "grad[\(p)]")
    }
    checks.append(agree)

    var kink = ToleranceCheck("\(name) ReLU pre-activations clear of the kink")
    kink.require(kinkSafe, "every pre-activation farther from 0 than twice its error bound")
    checks.append(kink)
    return checks
}

/// The reference error bound of the gradient at store index `index`.
func storeBound<let I: Int, let H: Int, let O: Int, A: Activation>(
    _ net: MLP<I, H, O, A>, _ g: ReferenceMLP.Gradients, index: Int
) -> Double {
    func find<let LI: Int, let LO: Int>(_ k: Int, _ l: Dense<LI, LO>) -> Double? {
        let w = l.w - net.parameters.values, b = l.b - net.parameters.values
        let op = Dense<LI, LO>.outPad
        if index >= w && index < w + LI * op {
            let i = (index - w) / op, o = (index - w) % op
            return o < LO ? g.w[k][i * LO + o].bound : nil
        }
        if index >= b && index < b + LO { return g.b[k][index - b].bound }
        return nil
    }
    return find(0, net.l1) ?? find(1, net.l2) ?? find(2, net.l3) ?? 0
}

@Suite("MLP forward and backward, one sample and batched, against a Double reference")
struct MLPTests {
    @Test("MLP<5, 40, 3> with tanh, ReLU, SiLU and identity: outputs, parameter and input gradients match the reference in both layouts")
    func activations() {
        let checks = checkMLP(MLP<5, 40, 3, Tanh>.self, seed: 31) + checkMLP(MLP<5, 40, 3, ReLU>.self, seed: 32)
            + checkMLP(MLP<5, 40, 3, SiLU>.self, seed: 33) + checkMLP(MLP<5, 40, 3, Identity>.self, seed: 34)
        for c in checks { c.expectPassed() }
    }

    @Test("the policy shape MLP<4, 64, 1, Tanh> matches the reference in both layouts")
    func policyShape() {
        for c in checkMLP(MLP<4, 64, 1, Tanh>.self, seed: 35) { c.expectPassed() }
    }

    @Test("padding entries of the parameter store stay exactly zero through forward, backward and AdamW steps")
    func paddingStaysZero() {
        var rng = RandomSource(seed: 36)
        let net = MLP<5, 13, 3, SiLU>(rng: &rng, maxLanes: 16)
        let padding = paddingIndices(net)
        #expect(padding.count == net.parameters.count - MLP<5, 13, 3, SiLU>.parameterCount)
        let adam = Adam(store: net.parameters, learningRate: 1e-2, weightDecay: 0.1)
        let x = laneMajor(randomSamples(16, 5, seed: 37), features: 5, lanes: 16)
        let dy = laneMajor(randomSamples(16, 3, seed: 38), features: 3, lanes: 16)
        let x1 = FloatBuffer([0.3, -0.2, 0.9, 0.1, -0.7]), dy1 = FloatBuffer([1, -1, 0.5]), dx1 = FloatBuffer(5)
        for _ in 0..<3 {
            net.parameters.zeroGrads()
            net.forward(batch: x.pointer, lanes: 16)
            net.backward(batch: x.pointer, outputGrad: dy.pointer, lanes: 16)
            net.forward(x1.pointer)
            net.backward(x1.pointer, outputGrad: dy1.pointer, inputGrad: dx1.pointer)
            adam.step()
        }
        #expect(padding.allSatisfy { net.parameters.values[$0] == 0 && net.parameters.grads[$0] == 0 })
        #expect(padding.allSatisfy { adam.firstMoments[$0] == 0 && adam.secondMoments[$0] == 0 })
        let real = (0..<net.parameters.count).filter { !Set(padding).contains($0) }
        #expect(real.filter { net.parameters.grads[$0] == 0 }.count < real.count / 20, "the real gradients are not all zero")
    }

    @Test("parameterCount counts the unpadded weights and biases")
    func parameterCount() {
        #expect(MLP<4, 64, 1, Tanh>.parameterCount == 4 * 64 + 64 + 64 * 64 + 64 + 64 + 1)
        var rng = RandomSource(seed: 1)
        let net = MLP<4, 64, 1, Tanh>(rng: &rng)
        #expect(net.parameters.count == (4 * 64 + 64) + (64 * 64 + 64) + (64 * 8 + 8))
    }
}
