import CEdgeSys
import EdgeCore

/// `edge-ctl bench`: for now the latency of one forward pass of the reference policy shape
/// (4→64→64→1 tanh, batch 1), measured as `edge-core-check --bench` measures it. The per-step
/// benchmarks of DESIGN section 9 (control step, imagined step, PPO and fit minibatches) replace this
/// when the shared bench code lands in EdgeRuntime.
enum BenchCommand {
    static let spec = CommandSpec(
        path: "edge-ctl bench",
        abstract: "Measure the policy forward pass on this machine: median, min and max ns per call, and the SIMD path.",
        options: [.option("--runs", "runs", "Timed runs; the median is reported. (default: 9)"),
                  .option("--calls", "calls", "Forward passes per run. (default: 200000)")])

    /// Runs `edge-ctl bench ARGUMENTS...`; returns the text for standard output.
    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let runs = try arguments.integer("--runs", default: 9, in: 1...10_000)
        let calls = try arguments.integer("--calls", default: 200_000, in: 1...1_000_000_000)

        var rng = RandomSource(seed: 1)
        let net = MLP<4, 64, 1, Tanh>(rng: &rng)
        let x = allocateFloats(4)
        defer { x.deallocate() }
        for d in 0..<4 { x[d] = Float(d * 3 % 11) / 5.5 - 1 }
        var nanosecondsPerCall: [Double] = []
        for _ in 0..<(runs + 1) {
            let start = edge_monotonic_ns()
            for _ in 0..<calls {
                let y = net.forward(x)
                x[0] = y[0] * 1e-3 + 0.25  // a data dependency, so calls cannot overlap or be hoisted
            }
            nanosecondsPerCall.append(Double(edge_monotonic_ns() - start) / Double(calls))
        }
        nanosecondsPerCall.removeFirst()  // warm-up
        nanosecondsPerCall.sort()
        return "policy_forward 4-64-64-1 tanh batch 1: median "
            + fixed(nanosecondsPerCall[nanosecondsPerCall.count / 2], decimals: 1) + " ns/call over "
            + "\(runs) runs of \(calls) calls (min " + fixed(nanosecondsPerCall[0], decimals: 1)
            + ", max " + fixed(nanosecondsPerCall[nanosecondsPerCall.count - 1], decimals: 1) + ")\n"
            + "simd path: " + simdPath + "\n"
    }
}
