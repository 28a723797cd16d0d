import EdgeCore
import Foundation

/// An exact value (computed in Double from the kernel's own Float parameters and inputs) and a bound on
/// how far the Float kernel's result may be from it.
///
/// Bounds are first-order forward error analysis (Higham, ch. 3): a Float dot product of n terms has
/// error at most γ(n + 2) Σ|terms| (n − 1 additions, one per bias or accumulated value, one per product
/// when multiply and add are not fused, plus the final horizontal sum); an error e in an input moves a
/// sum by Σ|coefficient| e; a function with Lipschitz constant K moves it by K e, and the fast
/// approximations add their own bounds (`FastMathBound`). Products of two errors are neglected, which
/// is why tests compare against twice the bound.
struct Bounded {
    var value: Double
    var bound: Double
    init(_ value: Double, _ bound: Double = 0) { self.value = value; self.bound = bound }
}

/// Sum of terms the kernel adds in Float in some order (including an accumulator's starting value):
/// each term's own error plus γ(n + 2) Σ|terms| for the additions.
func boundedSum(_ terms: [Bounded]) -> Bounded {
    var s = Bounded(0)
    var magnitude = 0.0
    for t in terms { s.value += t.value; s.bound += t.bound; magnitude += abs(t.value) }
    s.bound += gamma(terms.count + 2) * magnitude
    return s
}

/// Exact Double copy of a Dense layer's parameters, `w[i * outputs + o]`.
struct ReferenceDense {
    let inputs: Int, outputs: Int
    var w: [Double]
    var b: [Double]

    init<let I: Int, let O: Int>(_ layer: Dense<I, O>) {
        inputs = I; outputs = O
        w = []; w.reserveCapacity(I * O)
        for i in 0..<I { for o in 0..<O { w.append(Double(layer.weight(i, o))) } }
        b = (0..<O).map { Double(layer.b[$0]) }
    }

    /// z[o] = b[o] + Σ_i w[i][o] x[i].
    func forward(_ x: [Bounded]) -> [Bounded] {
        (0..<outputs).map { o in
            var value = b[o], magnitude = abs(b[o]), propagated = 0.0
            for i in 0..<inputs {
                let wio = w[i * outputs + o]
                value += wio * x[i].value
                magnitude += abs(wio * x[i].value)
                propagated += abs(wio) * x[i].bound
            }
            return Bounded(value, propagated + gamma(inputs + 2) * magnitude)
        }
    }

    /// One sample's contributions: dL/dw[i][o] = x[i] dz[o] (one rounding), dL/db = dz, and
    /// dL/dx[i] = Σ_o w[i][o] dz[o].
    func backward(_ x: [Bounded], _ dz: [Bounded]) -> (gw: [Bounded], gb: [Bounded], dx: [Bounded]) {
        var gw: [Bounded] = []
        gw.reserveCapacity(inputs * outputs)
        for i in 0..<inputs {
            for o in 0..<outputs {
                let v = x[i].value * dz[o].value
                gw.append(Bounded(v, abs(x[i].value) * dz[o].bound + abs(dz[o].value) * x[i].bound
                                    + floatRoundoff * abs(v)))
            }
        }
        let dx = (0..<inputs).map { i in
            var value = 0.0, magnitude = 0.0, propagated = 0.0
            for o in 0..<outputs {
                let wio = w[i * outputs + o]
                value += wio * dz[o].value
                magnitude += abs(wio * dz[o].value)
                propagated += abs(wio) * dz[o].bound
            }
            return Bounded(value, propagated + gamma(outputs + 2) * magnitude)
        }
        return (gw, dz, dx)
    }
}

/// The exact counterpart of an EdgeCore `Activation`, with the error the kernel's Float version adds.
enum ReferenceActivation: String {
    case tanh, relu, silu, identity

    static func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

    func value(_ z: Double) -> Double {
        switch self {
        case .tanh: Foundation.tanh(z)
        case .relu: max(z, 0)
        case .silu: z * Self.sigmoid(z)
        case .identity: z
        }
    }

    func derivative(_ z: Double) -> Double {
        switch self {
        case .tanh: 1 - Foundation.tanh(z) * Foundation.tanh(z)
        case .relu: z > 0 ? 1 : 0
        case .silu: Self.sigmoid(z) * (1 + z * (1 - Self.sigmoid(z)))
        case .identity: 1
        }
    }

    /// h = f(z). tanh: fastTanh's own error plus |f'| ≤ 1 times z's error. SiLU computes z · fastSigmoid(z):
    /// |f'| ≤ 1.0999 times z's error, plus |z| times the sigmoid's error, plus the product's rounding.
    func forward(_ z: Bounded) -> Bounded {
        let h = value(z.value)
        switch self {
        case .tanh: return Bounded(h, z.bound + FastMathBound.tanhAbsolute)
        case .relu, .identity: return Bounded(h, z.bound)
        case .silu:
            return Bounded(h, 1.1 * z.bound + (abs(z.value) + z.bound) * FastMathBound.sigmoidAbsolute
                              + floatRoundoff * abs(h))
        }
    }

    /// dL/dz = dL/dh · f'(z), where the kernel evaluates f' from its own (inexact) z and h:
    ///  - tanh: 1 − h², off by 2|h| e_h plus two roundings, then one rounding for the product;
    ///  - ReLU: exact when z's sign is right (callers check `kinkSafe`);
    ///  - SiLU: s(1 + z(1 − s)) with s = fastSigmoid(z): ∂f'/∂s = 1 + z − 2zs (at most 1 + |z|),
    ///    ∂f'/∂z at fixed s = s(1 − s) ≤ 1/4, and six roundings on terms at most 1 + |z|.
    func backward(_ dh: Bounded, z: Bounded, h: Bounded) -> Bounded {
        let d = derivative(z.value)
        let derivativeBound: Double
        switch self {
        case .tanh: derivativeBound = 2 * abs(h.value) * h.bound + 3 * floatRoundoff
        case .relu, .identity: derivativeBound = 0
        case .silu:
            let sigmoidBound = FastMathBound.sigmoidAbsolute + 0.25 * z.bound
            derivativeBound = (1 + abs(z.value)) * (sigmoidBound + 6 * floatRoundoff) + 0.25 * z.bound
        }
        return Bounded(dh.value * d, abs(d) * dh.bound + abs(dh.value) * derivativeBound)
    }

    /// ReLU's derivative jumps at 0: the kernel and the reference agree only when z is farther from the
    /// kink than the kernel's error. The others are smooth.
    func kinkSafe(_ z: Bounded) -> Bool { self != .relu || abs(z.value) > 2 * z.bound }
}

/// Exact Double copy of an EdgeCore `MLP` (In → Hidden → Hidden → Out), with bounded forward and
/// backward passes.
struct ReferenceMLP {
    var layers: [ReferenceDense]
    let activation: ReferenceActivation

    init<let I: Int, let H: Int, let O: Int, A: Activation>(_ net: MLP<I, H, O, A>) {
        layers = [ReferenceDense(net.l1), ReferenceDense(net.l2), ReferenceDense(net.l3)]
        activation = ReferenceActivation(rawValue: A.name)!
    }

    struct Trace {
        var x: [Bounded]
        var z1: [Bounded], h1: [Bounded], z2: [Bounded], h2: [Bounded], y: [Bounded]
        /// No ReLU pre-activation is within the kernel's error of the kink.
        var kinkSafe: Bool
        /// Smallest |z| over both hidden layers.
        var smallestPreActivation: Double
    }

    func forward(_ x: [Float]) -> Trace {
        let xb = x.map { Bounded(Double($0)) }
        let z1 = layers[0].forward(xb)
        let h1 = z1.map(activation.forward)
        let z2 = layers[1].forward(h1)
        let h2 = z2.map(activation.forward)
        let y = layers[2].forward(h2)
        let pre = z1 + z2
        return Trace(x: xb, z1: z1, h1: h1, z2: z2, h2: h2, y: y,
                     kinkSafe: pre.allSatisfy(activation.kinkSafe),
                     smallestPreActivation: pre.map { abs($0.value) }.min()!)
    }

    /// Parameter gradients (per layer, `w[i * outputs + o]` and `b[o]`) and input gradient.
    struct Gradients {
        var w: [[Bounded]]
        var b: [[Bounded]]
        var dx: [Bounded]
    }

    /// One sample's gradients given dL/dy as the kernel receives it; `outputGradBound` bounds how far
    /// that dL/dy is from the exact one (e.g. when it is the kernel's own output), zero if omitted.
    func backward(_ t: Trace, outputGrad: [Float], outputGradBound: [Double]? = nil) -> Gradients {
        let dy = outputGrad.indices.map { Bounded(Double(outputGrad[$0]), outputGradBound?[$0] ?? 0) }
        let g3 = layers[2].backward(t.h2, dy)
        let dz2 = (0..<g3.dx.count).map { activation.backward(g3.dx[$0], z: t.z2[$0], h: t.h2[$0]) }
        let g2 = layers[1].backward(t.h1, dz2)
        let dz1 = (0..<g2.dx.count).map { activation.backward(g2.dx[$0], z: t.z1[$0], h: t.h1[$0]) }
        let g1 = layers[0].backward(t.x, dz1)
        return Gradients(w: [g1.gw, g2.gw, g3.gw], b: [g1.gb, g2.gb, g3.gb], dx: g1.dx)
    }

    /// Gradients accumulated over samples (one-sample calls in sequence, or lanes of a batch), starting
    /// from zero gradients.
    static func sum(_ gs: [Gradients]) -> Gradients {
        func add(_ arrays: [[Bounded]]) -> [Bounded] {
            (0..<arrays[0].count).map { j in boundedSum(arrays.map { $0[j] }) }
        }
        return Gradients(w: (0..<3).map { k in add(gs.map { $0.w[k] }) },
                         b: (0..<3).map { k in add(gs.map { $0.b[k] }) },
                         dx: [])
    }

    /// Exact loss Σ_o c[o] y[o] for a Double copy of the parameters (used by finite differences).
    func linearLoss(_ x: [Float], _ c: [Double]) -> Double {
        let y = forward(x).y
        return zip(y, c).reduce(0) { $0 + $1.0.value * $1.1 }
    }
}

/// Reads the kernel's gradients of an MLP and checks them against reference gradients within twice
/// their bounds (see `Bounded`).
func checkGradients<let I: Int, let H: Int, let O: Int, A: Activation>(
    _ net: MLP<I, H, O, A>, _ ref: ReferenceMLP.Gradients, _ check: inout ToleranceCheck
) {
    func layer<let LI: Int, let LO: Int>(_ k: Int, _ l: Dense<LI, LO>) {
        for i in 0..<LI {
            for o in 0..<LO {
                let r = ref.w[k][i * LO + o]
                check.check(Double(l.weightGrad(i, o)), r.value, tolerance: 2 * r.bound, "layer \(k + 1) dW[\(i)][\(o)]")
            }
        }
        for o in 0..<LO {
            let r = ref.b[k][o]
            check.check(Double(l.gb[o]), r.value, tolerance: 2 * r.bound, "layer \(k + 1) db[\(o)]")
        }
    }
    layer(0, net.l1); layer(1, net.l2); layer(2, net.l3)
}
