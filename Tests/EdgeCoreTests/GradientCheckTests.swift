import EdgeCore
import Testing

/// Where one real parameter lives: its index in the store and in the reference's layer arrays.
struct ParameterSlot {
    let storeIndex: Int
    let layer: Int
    /// Index into `ReferenceDense.w` (i · outputs + o), or into `b` when `isBias`.
    let index: Int
    let isBias: Bool
}

func parameterSlots<let I: Int, let H: Int, let O: Int, A: Activation>(_ net: MLP<I, H, O, A>) -> [ParameterSlot] {
    var slots: [ParameterSlot] = []
    func add<let LI: Int, let LO: Int>(_ k: Int, _ l: Dense<LI, LO>) {
        let w = l.w - net.parameters.values, b = l.b - net.parameters.values
        for i in 0..<LI {
            for o in 0..<LO {
                slots.append(ParameterSlot(storeIndex: w + i * Dense<LI, LO>.outPad + o, layer: k, index: i * LO + o, isBias: false))
            }
        }
        for o in 0..<LO { slots.append(ParameterSlot(storeIndex: b + o, layer: k, index: o, isBias: true)) }
    }
    add(0, net.l1); add(1, net.l2); add(2, net.l3)
    return slots
}

/// Up to `perGroup` random slots from each (layer, weights or biases) group, so every layer's weights
/// and biases are covered; nil takes every slot.
func selectSlots(_ slots: [ParameterSlot], perGroup: Int?, seed: UInt64) -> [ParameterSlot] {
    guard let perGroup else { return slots }
    var rng = RandomSource(seed: seed)
    var chosen: [ParameterSlot] = []
    for layer in 0..<3 {
        for isBias in [false, true] {
            var group = slots.filter { $0.layer == layer && $0.isBias == isBias }
            for i in stride(from: group.count - 1, to: 0, by: -1) { group.swapAt(i, rng.nextInt(below: i + 1)) }
            chosen += group.prefix(perGroup)
        }
    }
    return chosen
}

/// How a gradient check went, beyond pass or fail.
struct FiniteDifferenceResult {
    var check: ToleranceCheck
    /// Perturbations after which a ReLU pre-activation changed sign or came within its error bound of 0.
    /// Checking both ends of each perturbation suffices: while no hidden unit switches, every
    /// pre-activation is linear in the perturbed quantity, so none can cross 0 and come back between them.
    var kinkCrossings = 0
    var largestTolerance = 0.0
    var largestGradient = 0.0
    var parametersChecked = 0
}

/// A central difference of a Float computation and the tolerance it carries.
///
/// The kernel is evaluated at θ± = Float(θ ± h) and D = (L(θ+) − L(θ−)) / (θ+ − θ−) (the actual Float
/// step, not 2h). D differs from the true derivative by
///  - Float rounding in the two evaluations: measured exactly as
///    (|L(θ+) − L*(θ+)| + |L(θ−) − L*(θ−)|) / step, L* the Double reference at the same points (about
///    1e-7 relative of L, divided by h);
///  - truncation, C h² for smooth functions: estimated as 2 |D*(h) − D*(h/4)|, D* the reference's central
///    difference over the Float points θ ± h and θ ± h/4 (D*(h) − D*(h/4) = (15/16) C h², so the
///    factor 2 covers the O(h⁴) rest; zero for functions linear in θ);
///  - rounding in the Double reference, below 1e-12.
/// `tolerance` is their sum; callers add the bound on their analytic gradient's own Float error.
struct CentralDifference {
    let estimate: Double
    let tolerance: Double
    let plus: Float, minus: Float

    /// `kernel` evaluates the Float computation with θ set to its argument; `reference` the exact one.
    init(at theta: Float, h: Float, kernel: (Float) -> Double, reference: (Float) -> Double) {
        plus = theta + h; minus = theta - h
        let step = Double(plus) - Double(minus)
        let lp = kernel(plus), lm = kernel(minus)
        let lpRef = reference(plus), lmRef = reference(minus)
        let noise = (abs(lp - lpRef) + abs(lm - lmRef)) / step
        let quarterPlus = theta + h / 4, quarterMinus = theta - h / 4
        let dQuarter = (reference(quarterPlus) - reference(quarterMinus)) / (Double(quarterPlus) - Double(quarterMinus))
        estimate = (lp - lm) / step
        tolerance = noise + 2 * abs((lpRef - lmRef) / step - dQuarter) + 1e-12
    }
}

/// Central finite differences (`CentralDifference`) of the Float kernel against its backward pass, for
/// an MLP and the loss L = Σ_samples Σ_o c[o] y[o] (dL/dy = c, so the check covers exactly the
/// network's backward pass). The tolerance adds twice `ReferenceMLP`'s bound on the kernel gradient's
/// own error. With h = 1e-2 it stays below 1% of the largest gradient, which the test also asserts, so
/// a wrong gradient cannot hide in it.
func finiteDifferenceCheck<let I: Int, let H: Int, let O: Int, A: Activation>(
    _: MLP<I, H, O, A>.Type, seed: UInt64, lanes: Int?, h: Float, perGroup: Int?, reluMargin: Double = 0.02
) -> FiniteDifferenceResult {
    var rng = RandomSource(seed: seed)
    let net = MLP<I, H, O, A>(rng: &rng, maxLanes: 16)
    for o in 0..<H { net.l1.b[o] = rng.nextUniform(-0.3, 0.3); net.l2.b[o] = rng.nextUniform(-0.3, 0.3) }
    for o in 0..<O { net.l3.b[o] = rng.nextUniform(-0.3, 0.3) }
    let base = ReferenceMLP(net)
    let sampleCount = lanes ?? 1
    let width = lanes ?? 16

    // Inputs. For ReLU keep only samples whose every pre-activation is at least `reluMargin` from the
    // kink (rejection sampling), so perturbations of size h cannot cross it; the crossings are counted
    // below rather than assumed away.
    var samples: [[Float]] = []
    while samples.count < sampleCount {
        let x = (0..<I).map { _ in rng.nextUniform(-1, 1) }
        if A.name != "relu" || base.forward(x).smallestPreActivation >= reluMargin { samples.append(x) }
    }
    let c = (0..<sampleCount).map { _ in (0..<O).map { _ in Double(rng.nextUniform(-1, 1)) } }
    let xBuffer = laneMajor(samples, features: I, lanes: width)
    let cBuffer = laneMajor(c.map { $0.map(Float.init) }, features: O, lanes: width)
    let oneX = FloatBuffer(samples[0]), oneC = FloatBuffer(c[0].map(Float.init))

    func kernelLoss() -> Double {
        if lanes == nil {
            let y = net.forward(oneX.pointer)
            return (0..<O).reduce(0) { $0 + c[0][$1] * Double(y[$1]) }
        }
        let y = net.forward(batch: xBuffer.pointer, lanes: width)
        var total = 0.0
        for l in 0..<sampleCount { for o in 0..<O { total += c[l][o] * Double(y[o * width + l]) } }
        return total
    }
    func referenceLoss(_ ref: ReferenceMLP, _ xs: [[Float]]) -> Double {
        (0..<sampleCount).reduce(0) { $0 + ref.linearLoss(xs[$1], c[$1]) }
    }
    func kinkSafeAndPattern(_ ref: ReferenceMLP, _ xs: [[Float]]) -> (Bool, [Bool]) {
        var safe = true, pattern: [Bool] = []
        for x in xs {
            let t = ref.forward(x)
            safe = safe && t.kinkSafe
            pattern += (t.z1 + t.z2).map { $0.value > 0 }
        }
        return (safe, pattern)
    }

    // The kernel's gradients and the reference bounds on them.
    net.parameters.zeroGrads()
    let kernelDx = FloatBuffer(I * width)
    if lanes == nil {
        net.forward(oneX.pointer)
        net.backward(oneX.pointer, outputGrad: oneC.pointer, inputGrad: kernelDx.pointer)
    } else {
        net.forward(batch: xBuffer.pointer, lanes: width)
        net.backward(batch: xBuffer.pointer, outputGrad: cBuffer.pointer, lanes: width, inputGrad: kernelDx.pointer)
    }
    let grads = (0..<net.parameters.count).map { Double(net.parameters.grads[$0]) }
    let perSample = (0..<sampleCount).map { base.backward(base.forward(samples[$0]), outputGrad: c[$0].map(Float.init)) }
    let refGrads = ReferenceMLP.sum(perSample)
    let basePattern = kinkSafeAndPattern(base, samples).1

    let label = "\(A.name) MLP<\(I), \(H), \(O)> " + (lanes.map { "batch of \($0)" } ?? "one sample")
    var result = FiniteDifferenceResult(check: ToleranceCheck("finite differences, \(label)"))

    /// Checks one derivative: `set` puts a value in the kernel, `perturbed` builds the reference and
    /// its inputs with the quantity set to a Float value.
    func checkOne(_ theta: Float, kernelGrad: Double, gradBound: Double, what: String,
                  set: (Float) -> Void, perturbed: (Float) -> (ReferenceMLP, [[Float]])) {
        let cd = CentralDifference(at: theta, h: h, kernel: { set($0); return kernelLoss() },
                                   reference: { let (r, x) = perturbed($0); return referenceLoss(r, x) })
        set(theta)
        let tolerance = cd.tolerance + 2 * gradBound
        result.check.check(kernelGrad, cd.estimate, tolerance: tolerance, what)
        result.largestTolerance = max(result.largestTolerance, tolerance)
        result.largestGradient = max(result.largestGradient, abs(cd.estimate))
        result.parametersChecked += 1
        if A.name == "relu" {
            for v in [cd.plus, cd.minus] {
                let (r, x) = perturbed(v)
                let (safe, pattern) = kinkSafeAndPattern(r, x)
                if !safe || pattern != basePattern { result.kinkCrossings += 1 }
            }
        }
    }

    for slot in selectSlots(parameterSlots(net), perGroup: perGroup, seed: seed &+ 7) {
        let theta = net.parameters.values[slot.storeIndex]
        let bound = slot.isBias ? refGrads.b[slot.layer][slot.index].bound : refGrads.w[slot.layer][slot.index].bound
        checkOne(theta, kernelGrad: grads[slot.storeIndex], gradBound: bound,
                 what: "layer \(slot.layer + 1) \(slot.isBias ? "bias" : "weight") \(slot.index)",
                 set: { net.parameters.values[slot.storeIndex] = $0 },
                 perturbed: { v in
                     var r = base
                     if slot.isBias { r.layers[slot.layer].b[slot.index] = Double(v) } else { r.layers[slot.layer].w[slot.index] = Double(v) }
                     return (r, samples)
                 })
    }

    // Input gradients: every input of (up to) the first four samples.
    for s in 0..<min(sampleCount, 4) {
        for d in 0..<I {
            let kernelGrad = Double(kernelDx[lanes == nil ? d : d * width + s])
            checkOne(samples[s][d], kernelGrad: kernelGrad, gradBound: perSample[s].dx[d].bound, what: "input \(d) of sample \(s)",
                     set: { v in if lanes == nil { oneX[d] = v } else { xBuffer[d * width + s] = v } },
                     perturbed: { v in
                         var xs = samples
                         xs[s][d] = v
                         return (base, xs)
                     })
        }
    }
    return result
}

@Suite("Finite differences of every backward pass")
struct GradientCheckTests {
    func expectGood(_ r: FiniteDifferenceResult, minimumParameters: Int) {
        r.check.expectPassed()
        logMeasurement("\(r.check.label): \(r.parametersChecked) derivatives, largest tolerance \(r.largestTolerance), largest gradient \(r.largestGradient)")
        #expect(r.parametersChecked >= minimumParameters)
        #expect(r.largestTolerance <= 0.01 * r.largestGradient,
                "\(r.check.label): tolerance \(r.largestTolerance) is too loose against gradients up to \(r.largestGradient)")
        #expect(r.kinkCrossings == 0, "\(r.check.label): \(r.kinkCrossings) perturbations moved a ReLU pre-activation across or onto its kink")
    }

    @Test("one sample: every parameter and input gradient of MLP<5, 40, 3> matches central differences for tanh, ReLU, SiLU and identity")
    func oneSample() {
        // h = 1e-2 on parameters of size 0.05 to 0.45: Float noise about 1e-7 · |L| / h ≈ 1e-5 · |L|,
        // truncation about h² |L'''| / 6 ≈ 2e-5 |L'''|; ReLU uses 5e-3 so that perturbations stay well
        // inside the 0.02 margin its inputs were chosen with.
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, Tanh>.self, seed: 41, lanes: nil, h: 1e-2, perGroup: nil), minimumParameters: 2003)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, ReLU>.self, seed: 42, lanes: nil, h: 5e-3, perGroup: nil), minimumParameters: 2003)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, SiLU>.self, seed: 43, lanes: nil, h: 1e-2, perGroup: nil), minimumParameters: 2003)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, Identity>.self, seed: 44, lanes: nil, h: 1e-2, perGroup: nil), minimumParameters: 2003)
    }

    @Test("a batch of 16: at least 200 parameters per network, covering every layer's weights and biases, and the input gradients, match central differences")
    func batch() {
        // 40 per (layer, kind) group: 40 + 40 + 40 + 40 + 40 + 3 = 203 parameters.
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, Tanh>.self, seed: 45, lanes: 16, h: 1e-2, perGroup: 40), minimumParameters: 200)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, ReLU>.self, seed: 46, lanes: 16, h: 5e-3, perGroup: 40), minimumParameters: 200)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, SiLU>.self, seed: 47, lanes: 16, h: 1e-2, perGroup: 40), minimumParameters: 200)
        expectGood(finiteDifferenceCheck(MLP<5, 40, 3, Identity>.self, seed: 48, lanes: 16, h: 1e-2, perGroup: 40), minimumParameters: 200)
    }

    @Test("the policy shape MLP<4, 64, 1, Tanh>: 250 parameters and the input gradients match central differences")
    func policyShape() {
        expectGood(finiteDifferenceCheck(MLP<4, 64, 1, Tanh>.self, seed: 49, lanes: nil, h: 1e-2, perGroup: 50), minimumParameters: 200)
    }
}
