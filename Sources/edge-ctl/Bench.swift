import ArgumentParser
import EdgeRuntime
import Foundation

/// `edge-ctl bench`: per-step latency percentiles, throughput and allocations of the kernels the
/// controller runs (DESIGN.md section 9), measured by `KernelBench` in EdgeRuntime, the same code the
/// board binary's `bench` runs.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure per-step latency (p50, p99, p99.9, max), steps per second and allocations per step of the controller's kernels.",
        discussion: "Kernels: \(BenchKernel.names). Each runs --steps steps after a warm-up; sub-microsecond kernels are timed in small fixed groups (the output says which). Prints the machine, the build configuration and the SIMD path.")

    @Option(help: "Steps to measure per kernel after warm-up (at least \(KernelBench.minimumSteps)).")
    var steps: Int = KernelBench.defaultSteps

    @Option(name: .customLong("kernel"), help: "Run only this kernel (repeatable): \(BenchKernel.names).")
    var kernelNames: [String] = []

    @Option(help: "Seed of the kernels' random numbers.")
    var seed: UInt64 = 1

    @Flag(help: "Print one JSON object keyed by kernel name, plus machine and simd_path.")
    var json = false

    func validate() throws {
        guard steps >= KernelBench.minimumSteps else {
            throw ValidationError("--steps must be at least \(KernelBench.minimumSteps) (got \(steps))")
        }
        guard steps <= KernelBench.maximumSteps else {
            throw ValidationError("--steps must be at most \(KernelBench.maximumSteps) (got \(steps))")
        }
        for name in kernelNames where BenchKernel(name: name) == nil {
            throw ValidationError("unknown kernel '\(name)'; kernels: \(BenchKernel.names)")
        }
    }

    func run() throws {
        var kernels: [BenchKernel] = []
        for name in kernelNames { if let k = BenchKernel(name: name), !kernels.contains(k) { kernels.append(k) } }
        if kernels.isEmpty { kernels = BenchKernel.allCases }
        let bench = KernelBench(steps: steps, kernels: kernels, seed: seed)
        let interactive = !json && isatty(STDERR_FILENO) != 0
        let report = bench.run { kernel in
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[Kmeasuring \(kernel.name)...".utf8)) }
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print(json ? report.json : report.text, terminator: json ? "\n" : "")
    }
}
