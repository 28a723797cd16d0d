// The kernels of `edge-ctl bench` (EdgeRuntime's KernelBench workloads, the same code) under
// package-benchmark, for regression tracking: wall clock, throughput and mallocs per kernel.
// One benchmark iteration is one step (one batched call of 160 rollouts for imagined_step_batched);
// every workload is built in `setup`, outside the measurement.
import Benchmark
import EdgeRuntime

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        warmupIterations: 100,
        maxDuration: .seconds(3),
        maxIterations: 100_000)

    Benchmark("policy_forward") { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.call() }
        blackHole(workload.checkValue)
    } setup: {
        PolicyForwardWorkload(seed: 1)
    }

    // The rig's physics between control steps is excluded: measurement runs around `call()` only.
    Benchmark("control_step") { benchmark, workload in
        workload.prepare()
        benchmark.startMeasurement()
        workload.call()
        benchmark.stopMeasurement()
        blackHole(workload.checkValue)
    } setup: {
        ControlStepWorkload(seed: 1)
    }

    Benchmark("imagined_step") { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.call() }
        blackHole(workload.checkValue)
    } setup: {
        ImaginedStepWorkload(seed: 1)
    }

    Benchmark("imagined_step_batched (160 rollouts per iteration)") { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.call() }
        blackHole(workload.checkValue)
    } setup: {
        BatchedImaginedStepWorkload(seed: 1)
    }

    Benchmark("ppo_minibatch", configuration: .init(maxIterations: 20_000)) { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.call() }
        blackHole(workload.checkValue)
    } setup: {
        PPOMinibatchWorkload(seed: 1)
    }

    Benchmark("dynamics_fit_minibatch", configuration: .init(maxIterations: 10_000)) { benchmark, workload in
        for _ in benchmark.scaledIterations { workload.call() }
        blackHole(workload.checkValue)
    } setup: {
        DynamicsFitWorkload(seed: 1)
    }
}
