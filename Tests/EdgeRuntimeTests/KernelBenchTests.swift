import EdgeCore
import EdgeLearning
import EdgeRuntime
import Testing

/// `KernelBench`, the code behind `edge-ctl bench` on the host and the board: every kernel runs with a
/// small step count, its statistics are consistent, the steps that must not allocate do not, and each
/// kernel computes what it claims to.
@Suite("Kernel bench")
struct KernelBenchTests {
    static let steps = 2_000

    @Test("every kernel reports ordered percentiles, throughput consistent with its times, and its own name",
          arguments: BenchKernel.allCases)
    func percentilesAndThroughput(kernel: BenchKernel) {
        let r = KernelBench(steps: Self.steps, kernels: [kernel], seed: 3).run(kernel)
        #expect(r.kernel == kernel)
        #expect(r.steps >= Self.steps)
        #expect(r.p50Ns > 0)
        #expect(r.p50Ns <= r.p99Ns && r.p99Ns <= r.p999Ns && r.p999Ns <= r.maxNs)
        // The mean step time lies between the fastest and slowest sample, so steps/s must lie between
        // 1e9 / max and 1e9 / (fastest sample), and the median cannot be more than 50x the mean.
        let meanNs = 1e9 / r.stepsPerSecond
        #expect(meanNs <= r.maxNs * 1.0001)
        #expect(r.p50Ns <= meanNs * 50)
        #expect(r.checkValue.isFinite)
        #expect(BenchKernel(name: kernel.name) == kernel)
    }

    @Test("control steps, imagined steps and the minibatch updates allocate nothing (the counter is linked here)",
          arguments: BenchKernel.allCases)
    func zeroAllocations(kernel: BenchKernel) {
        #expect(AllocationCounter.isAvailable)
        let r = KernelBench(steps: Self.steps, kernels: [kernel], seed: 4).run(kernel)
        #expect(r.allocsPerStep == 0, "\(kernel.name) allocated \(r.allocsPerStep ?? -1) times per step")
    }

    @Test("the policy_forward kernel's output equals a direct forward pass of an identically seeded network")
    func policyForwardComputesTheForwardPass() {
        let workload = PolicyForwardWorkload(seed: 11)
        var rng = RandomSource(seed: 11)
        let reference = MLP<4, 64, 1, Tanh>(rng: &rng)
        for _ in 0..<5 {
            let x = [workload.input[0], workload.input[1], workload.input[2], workload.input[3]]
            let expected = x.withUnsafeBufferPointer { reference.forward($0.baseAddress!)[0] }
            workload.call()
            #expect(workload.checkValue == Double(expected))
            #expect(workload.input[0] == expected * 1e-3 + 0.25)  // the chain that serializes calls
        }
    }

    @Test("the control_step kernel applies the policy's mean action for the observation it decoded")
    func controlStepRunsThePolicy() {
        let workload = ControlStepWorkload(seed: 5)
        for _ in 0..<300 {  // across an episode boundary (200 steps)
            workload.prepare()
            workload.call()
            let obs = workload.step.observation
            // The decoded observation is on the unit circle (cos θ, sin θ).
            let radius: Float = obs[0] * obs[0] + obs[1] * obs[1]
            #expect(abs(radius - 1) < 1e-4)
            var expected: Float = 0
            workload.policy.mean(obs.baseAddress!, into: &expected)
            #expect(workload.step.proposedAction[0] == expected)
            // The safety filter keeps the applied action inside the bounds [-1, 1].
            #expect(abs(workload.checkValue) <= 1)
        }
        #expect(workload.step.safety.latchedFault == nil)
    }

    @Test("imagined states stay inside the data range, and the batched kernel runs every rollout")
    func imaginedStepsStayInRange() {
        let single = ImaginedStepWorkload(seed: 6)
        for _ in 0..<100 { single.call(); #expect(single.checkValue.isFinite) }
        let batched = BatchedImaginedStepWorkload(seed: 6, rollouts: 160)
        #expect(batched.lanes == 160)
        for _ in 0..<30 { batched.call() }  // past a restart at the horizon (25)
        #expect(batched.checkValue.isFinite)
        #expect(batched.checkValue < 0)  // the pendulum's rewards are negative; the model learned that
    }

    @Test("ppo_minibatch takes exactly one Adam step per call on the policy and the value network")
    func ppoMinibatchIsOneMinibatch() {
        let workload = PPOMinibatchWorkload(seed: 7)
        let before = workload.ppo.meanOptimizer.steps
        let valueBefore = workload.ppo.valueOptimizer.steps
        workload.call()
        workload.call()
        #expect(workload.ppo.meanOptimizer.steps == before + 2)
        #expect(workload.ppo.valueOptimizer.steps == valueBefore + 2)
        #expect(workload.checkValue.isFinite)
    }

    @Test("dynamics_fit_minibatch steps every ensemble member once per call and lowers the NLL on its data")
    func dynamicsFitStepsEveryMember() {
        let workload = DynamicsFitWorkload(seed: 8)
        let members = workload.models.dynamics.memberCount
        #expect(members == 5)
        let before = workload.models.dynamics.networks.optimizers.map { $0.steps }
        var early: Double = 0, late: Double = 0
        for i in 0..<400 {
            workload.call()
            if i < 20 { early += workload.checkValue }
            if i >= 380 { late += workload.checkValue }
        }
        let after = workload.models.dynamics.networks.optimizers.map { $0.steps }
        for m in 0..<members { #expect(after[m] == before[m] + 400) }
        #expect(late < early)
    }

    @Test("the JSON report has the issue's keys for every kernel, plus machine and simd_path")
    func jsonKeys() {
        let report = KernelBench(steps: 1_000, kernels: [.policyForward, .ppoMinibatch], seed: 1).run()
        let json = report.json
        for key in ["\"policy_forward\":{", "\"ppo_minibatch\":{", "\"p50_ns\":", "\"p99_ns\":", "\"p999_ns\":",
                    "\"max_ns\":", "\"steps_per_second\":", "\"allocs_per_step\":0", "\"machine\":\"",
                    "\"simd_path\":\"" + simdPath + "\""] {
            #expect(json.contains(key), "missing \(key) in \(json)")
        }
        #expect(json.hasPrefix("{") && json.hasSuffix("}"))
        #expect(report.text.contains("policy_forward"))
        #expect(report.machine.cores >= 1)
    }

    @Test("the CPU model is read from x86 and Raspberry Pi /proc/cpuinfo texts")
    func cpuModel() {
        #expect(MachineInfo.cpuModel(cpuinfo: "processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: fpu\n") == "AMD EPYC 7B13")
        let pi = "processor\t: 0\nCPU part\t: 0xd08\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n"
        #expect(MachineInfo.cpuModel(cpuinfo: pi) == "Raspberry Pi 4 Model B Rev 1.4 (Cortex-A72)")
        #expect(MachineInfo.cpuModel(cpuinfo: "") == "unknown CPU")
    }
}
