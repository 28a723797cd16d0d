import EdgeCore
import Testing

/// Rebuilds the weights and inputs of scripts/reference/core_reference.py (see the header of
/// CoreReferenceFixture.swift for the formula) and runs EdgeCore on them.
enum CoreReferenceNetwork {
    /// 2 (n² mod 1009) / 1009 − 1, in the same operations and order as the script's `unit`.
    static func unit(_ n: Int) -> Double { 2 * Double((n * n) % 1009) / 1009 - 1 }

    static func bitSum(_ values: [Float]) -> UInt64 { values.reduce(0) { $0 + UInt64($1.bitPattern) } }

    /// Sets every weight and bias of layer k (1-based) from the formula; returns the Float bit sums of
    /// its weights and biases.
    static func fill<let I: Int, let O: Int>(_ layer: Dense<I, O>, k: Int) -> [UInt64] {
        let scale = 1 / Double(I).squareRoot()
        var w: [Float] = [], b: [Float] = []
        for i in 0..<I {
            for o in 0..<O {
                let v = Float(unit(97 * i + 61 * o + 13 * k + 7) * scale)
                layer.setWeight(i, o, v)
                w.append(v)
            }
        }
        for o in 0..<O {
            let v = Float(0.1 * unit(37 * o + 11 * k + 5))
            layer.b[o] = v
            b.append(v)
        }
        return [bitSum(w), bitSum(b)]
    }

    static func make<A: Activation>(_: A.Type) -> (MLP<4, 64, 1, A>, [UInt64]) {
        var rng = RandomSource(seed: 0)
        let net = MLP<4, 64, 1, A>(rng: &rng)
        let sums = fill(net.l1, k: 1) + fill(net.l2, k: 2) + fill(net.l3, k: 3)
        return (net, sums)
    }

    static var inputs: [[Float]] {
        (0..<CoreReferenceFixture.sampleCount).map { s in (0..<4).map { d in Float(unit(53 * s + 29 * d + 3)) } }
    }
}

/// Runs one fixture case: forward and backward of L = Σ 0.5 y² sample by sample (gradients add up),
/// then one Adam step, and compares everything with the script's float64 results.
///
/// Tolerance: relative 1e-5, widened where Float cannot reach it. Each value may also differ by twice the
/// first-order bound of `ReferenceMLP` on this network (Float dot products over 64 inputs plus the fast
/// activations' stated errors). That matters for small values that come out of cancellation, e.g. an
/// output of 0.06 summed from 64 terms of about 0.03 each carries up to about 1e-6 of Float error.
func checkFixtureCase<A: Activation>(_: A.Type, _ expected: CoreReferenceFixture.ReferenceCase) -> ToleranceCheck {
    let (net, sums) = CoreReferenceNetwork.make(A.self)
    var check = ToleranceCheck("fixture \(A.name)")
    check.require(sums == CoreReferenceFixture.parameterBitSums, "rebuilt weights equal the script's")
    let inputs = CoreReferenceNetwork.inputs
    check.require(CoreReferenceNetwork.bitSum(inputs.flatMap { $0 }) == CoreReferenceFixture.inputBitSum,
                  "rebuilt inputs equal the script's")

    let ref = ReferenceMLP(net)
    var largestRelativeError = (error: 0.0, at: "")
    func compare(_ computed: Float, _ expected: Double, bound: Double, _ what: String) {
        check.check(Double(computed), expected, tolerance: max(1e-5 * abs(expected), 2 * bound), what)
        let relative = abs(Double(computed) - expected) / abs(expected)
        if relative > largestRelativeError.error { largestRelativeError = (relative, "\(what) = \(expected)") }
    }

    net.parameters.zeroGrads()
    var perSample: [ReferenceMLP.Gradients] = []
    for (s, x) in inputs.enumerated() {
        let xb = FloatBuffer(x), dx = FloatBuffer(4)
        let y = net.forward(xb.pointer)
        let t = ref.forward(x)
        compare(y[0], expected.outputs[s], bound: t.y[0].bound, "y[\(s)]")
        var dy = y[0]  // dL/dy = y for L = 0.5 y²
        net.backward(xb.pointer, outputGrad: &dy, inputGrad: dx.pointer)
        // The kernel's dL/dy is its own y, off from the exact y by at most y's bound.
        let g = ref.backward(t, outputGrad: [dy], outputGradBound: [t.y[0].bound])
        perSample.append(g)
        for d in 0..<4 {
            compare(dx[d], expected.inputGrads[s][d], bound: g.dx[d].bound, "dx[\(s)][\(d)]")
        }
    }
    let refGrads = ReferenceMLP.sum(perSample)

    let adam = Adam(store: net.parameters, learningRate: 1e-3)
    func value(_ p: CoreReferenceFixture.Parameter) -> (grad: Float, value: Float, bound: Double) {
        func read<let I: Int, let O: Int>(_ l: Dense<I, O>, _ k: Int) -> (Float, Float, Double) {
            if let i = p.input {
                return (l.weightGrad(i, p.output), l.weight(i, p.output), refGrads.w[k][i * O + p.output].bound)
            }
            return (l.gb[p.output], l.b[p.output], refGrads.b[k][p.output].bound)
        }
        switch p.layer {
        case 1: return read(net.l1, 0)
        case 2: return read(net.l2, 1)
        default: return read(net.l3, 2)
        }
    }
    for p in expected.weights + expected.biases {
        let (g, _, bound) = value(p)
        compare(g, p.grad, bound: bound, "grad layer \(p.layer) \(p.input.map { "w[\($0)]" } ?? "b")[\(p.output)]")
    }
    adam.step()
    for p in expected.weights + expected.biases {
        let (_, v, _) = value(p)
        // The step is lr g / (|g| + ε) ≈ ±1e-3, insensitive to the gradient's last digits (|g| ≫ ε here);
        // θ rounds to Float (u |θ|) and the step to 1e-5 of itself.
        check.check(Double(v), p.afterAdam, tolerance: 2 * floatRoundoff * abs(p.afterAdam) + 1e-5 * 1e-3,
                    "after Adam layer \(p.layer) \(p.input.map { "w[\($0)]" } ?? "b")[\(p.output)]")
    }
    logMeasurement("fixture \(A.name): largest relative error of outputs and gradients \(largestRelativeError.error) at \(largestRelativeError.at)")
    return check
}

@Suite("EdgeCore against the NumPy float64 fixture")
struct CoreReferenceTests {
    @Test("tanh, SiLU and ReLU 4-64-64-1 networks: outputs, parameter and input gradients and one Adam step match NumPy")
    func fixture() {
        for c in [checkFixtureCase(Tanh.self, CoreReferenceFixture.tanhCase),
                  checkFixtureCase(SiLU.self, CoreReferenceFixture.siluCase),
                  checkFixtureCase(ReLU.self, CoreReferenceFixture.reluCase)] {
            c.expectPassed()
        }
    }
}
