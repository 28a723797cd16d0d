// edge-core-check: prints the core's results on fixed data (for host vs aarch64 parity under qemu) or,
// with --bench, the latency of the reference policy forward pass. Embedded-safe: no Foundation.
import CEdgeSys
import EdgeCore

typealias PolicyNet = MLP<4, 64, 1, Tanh>

func line(_ label: String, _ values: UnsafePointer<Float>, count: Int, stride: Int = 1) {
    var text = label
    var i = 0
    while i < count {
        text += " " + formatFloat(values[i], digits: 9)
        i += stride
    }
    print(text)
}

/// Fixed inputs: x[s][d] = sin-free closed form so every platform builds the same bits.
func fillInputs(_ x: UnsafeMutablePointer<Float>, samples: Int, features: Int, layoutLanes: Int? = nil) {
    for s in 0..<samples {
        for d in 0..<features {
            let v = Float((s * 7 + d * 3) % 11) / 5.5 - 1
            if let lanes = layoutLanes { x[d * lanes + s] = v } else { x[s * features + d] = v }
        }
    }
}

func parity() {
    print("# simd_path: " + simdPath)  // '#' lines are notes, not compared between platforms
    var rng = RandomSource(seed: 42)
    let net = PolicyNet(rng: &rng, maxLanes: 16)
    let x = allocateFloats(4 * 16)
    fillInputs(x, samples: 4, features: 4)

    // One sample: forward, backward of L = 0.5 y², three Adam steps.
    let adam = Adam(store: net.parameters, learningRate: 1e-3, weightDecay: 1e-4)
    var grad: Float = 0
    let inputGrad = allocateFloats(8)
    for step in 0..<3 {
        net.parameters.zeroGrads()
        for s in 0..<4 {
            let y = net.forward(x + 4 * s)
            if step == 0 { line("forward_sample\(s)", y, count: 1) }
            grad = y[0]
            net.backward(x + 4 * s, outputGrad: &grad, inputGrad: inputGrad)
            if step == 0 { line("input_grad_sample\(s)", inputGrad, count: 4) }
        }
        if step == 0 {
            line("grad_norm", [net.parameters.gradNorm()], count: 1)
            line("grads_every_37th", net.parameters.grads, count: net.parameters.count, stride: 37)
        }
        adam.step()
    }
    line("params_after_3_adam_steps_every_37th", net.parameters.values, count: net.parameters.count, stride: 37)

    // A batch of 16 samples in lanes through a SiLU network.
    var rng2 = RandomSource(seed: 7)
    let silu = MLP<4, 32, 3, SiLU>(rng: &rng2, maxLanes: 16)
    let xb = allocateFloats(4 * 16)
    fillInputs(xb, samples: 16, features: 4, layoutLanes: 16)
    let yb = silu.forward(batch: xb, lanes: 16)
    line("silu_batch_forward", yb, count: 3 * 16)
    let dy = allocateFloats(3 * 16)
    for i in 0..<(3 * 16) { dy[i] = yb[i] }
    silu.parameters.zeroGrads()
    silu.backward(batch: xb, outputGrad: dy, lanes: 16)
    line("silu_batch_grads_every_11th", silu.parameters.grads, count: silu.parameters.count, stride: 11)

    // Vectorized math.
    var v = Vec(repeating: 0)
    for i in 0..<8 { v[i] = Float(i) * 1.37 - 5.1 }
    var out = [fastExp(v), fastTanh(v), fastSigmoid(v)]
    out.withUnsafeMutableBytes { raw in line("exp_tanh_sigmoid", raw.baseAddress!.assumingMemoryBound(to: Float.self), count: 24) }
    var mean: [Float] = [0.3, -0.2], logStd: [Float] = [-0.5, 0.1], a: [Float] = [0.1, 0.4]
    line("gaussian_logprob_entropy", [DiagonalGaussian.logProb(&a, mean: &mean, logStd: &logStd, count: 2),
                                      DiagonalGaussian.entropy(logStd: &logStd, count: 2)], count: 2)
    var r = RandomSource(seed: 3)
    line("rng_uniform_gaussian", [r.nextUniform(), r.nextUniform(), r.nextGaussian(), r.nextGaussian()], count: 4)
}

/// Median nanoseconds per call of the single-sample forward pass of the reference policy shape.
func bench(runs: Int, calls: Int) {
    var rng = RandomSource(seed: 1)
    let net = PolicyNet(rng: &rng)
    let x = allocateFloats(4)
    fillInputs(x, samples: 1, features: 4)
    var results: [Double] = []
    for _ in 0..<(runs + 1) {
        let start = edge_monotonic_ns()
        for _ in 0..<calls {
            let y = net.forward(x)
            x[0] = y[0] * 1e-3 + 0.25  // a data dependency, so calls cannot overlap or be hoisted
        }
        let elapsed = edge_monotonic_ns() - start
        results.append(Double(elapsed) / Double(calls))
    }
    results.removeFirst()  // warm-up
    results.sort()
    let median = results[results.count / 2]
    var text = "policy_forward 4-64-64-1 tanh batch 1: median " + formatFloat(median, digits: 4) + " ns/call over "
    text += "\(runs) runs of \(calls) calls (min " + formatFloat(results[0], digits: 4)
    text += ", max " + formatFloat(results[results.count - 1], digits: 4) + ")"
    print(text)
    print("simd path: " + simdPath)
}

@main
struct EdgeCoreCheck {
    static func main() {
        let args = (0..<Int(edge_argument_count())).map { String(cString: edge_argument(Int32($0))) }
        if args.contains("--help") || args.contains("-h") {
            print("usage: edge-core-check [--bench [--runs N] [--calls N]]")
            print("  without flags: prints the core's results on fixed data (host vs aarch64 parity check)")
            print("  --bench: median ns per forward pass of the 4-64-64-1 tanh policy, and the SIMD path")
            return
        }
        if args.contains("--bench") {
            func value(_ flag: String, _ fallback: Int) -> Int {
                guard let i = args.firstIndex(of: flag), i + 1 < args.count, let n = Int(args[i + 1]), n > 0 else { return fallback }
                return n
            }
            bench(runs: value("--runs", 9), calls: value("--calls", 200_000))
        } else {
            parity()
        }
    }
}
