import CEdgeSys
import EdgeRuntime

/// `edge-ctl bench` on the board: the host's `bench` (same kernels, flags and output), measured by
/// `KernelBench` in EdgeRuntime. Allocations per step print as n/a (null in JSON): the board binary
/// does not link the allocation counter, and the bench never claims a number it did not measure.
enum BenchCommand {
    static let spec = CommandSpec(
        path: "edge-ctl bench",
        abstract: "Measure per-step latency (p50, p99, p99.9, max), steps per second and allocations per step of the controller's kernels.",
        options: [.option("--steps", "steps", "Steps to measure per kernel after warm-up (at least \(KernelBench.minimumSteps)). (default: \(KernelBench.defaultSteps))"),
                  .option("--kernel", "kernel", "Run only this kernel (repeatable): \(BenchKernel.names)."),
                  .option("--seed", "seed", "Seed of the kernels' random numbers. (default: 1)"),
                  .flag("--json", "Print one JSON object keyed by kernel name, plus machine and simd_path.")],
        discussion: "Kernels: \(BenchKernel.names). Each runs --steps steps after a warm-up; sub-microsecond kernels are timed in small fixed groups (the output says which). Prints the machine, the build configuration and the SIMD path.")

    /// Runs `edge-ctl bench ARGUMENTS...`; returns the text for standard output.
    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let steps = try arguments.integer("--steps", default: KernelBench.defaultSteps,
                                          in: KernelBench.minimumSteps...KernelBench.maximumSteps)
        let seed = try arguments.unsigned("--seed") ?? 1
        var kernels: [BenchKernel] = []
        for name in arguments.strings("--kernel") {
            guard let kernel = BenchKernel(name: name) else {
                throw spec.usageError("unknown kernel '\(name)'; kernels: \(BenchKernel.names)")
            }
            if !kernels.contains(kernel) { kernels.append(kernel) }
        }
        if kernels.isEmpty { kernels = BenchKernel.allCases }
        let report = KernelBench(steps: steps, kernels: kernels, seed: seed).run()
        return arguments.flag("--json") ? report.json + "\n" : report.text
    }
}
