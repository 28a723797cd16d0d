import CEdgeSys
import EdgeCore

/// The kernels `edge-ctl bench` measures (DESIGN.md section 9), by their report names.
public enum BenchKernel: Int, CaseIterable, Sendable {
    /// One forward pass of the reference policy shape, 4→64→64→1 tanh, batch 1.
    case policyForward
    /// One control step on the simulated pendulum board: sensor decode + observation + normalization +
    /// policy + safety filter + actuator write.
    case controlStep
    /// One imagined step of one rollout: policy sample, one ensemble member's Gaussian draw, reward model.
    case imaginedStep
    /// The same per rollout when the default 160 rollouts run together (samples in SIMD lanes).
    case imaginedStepBatched
    /// One PPO minibatch of 64: forward, backward and Adam for the policy and the value network.
    case ppoMinibatch
    /// One fitting minibatch of 64 for the whole dynamics ensemble (5 members): forward, NLL, backward, AdamW.
    case dynamicsFitMinibatch

    /// The name used on the command line and as the JSON key.
    public var name: String {
        switch self {
        case .policyForward: return "policy_forward"
        case .controlStep: return "control_step"
        case .imaginedStep: return "imagined_step"
        case .imaginedStepBatched: return "imagined_step_batched"
        case .ppoMinibatch: return "ppo_minibatch"
        case .dynamicsFitMinibatch: return "dynamics_fit_minibatch"
        }
    }

    /// The kernel called `name`, or nil.
    public init?(name: String) {
        for kernel in BenchKernel.allCases where kernel.name == name {
            self = kernel
            return
        }
        return nil
    }

    /// Every kernel name, comma-separated (for help and error messages).
    public static var names: String {
        var text = ""
        for kernel in allCases { text += (text.isEmpty ? "" : ", ") + kernel.name }
        return text
    }
}

/// One kernel's measurement. Per-step nanoseconds come from the recorded time of each timed sample
/// divided by the steps in it (`stepsPerSample`: 1 when every step is timed on its own).
public struct KernelResult: Sendable {
    public var kernel: BenchKernel
    /// Steps measured after the warm-up (a batched call counts one step per rollout).
    public var steps: Int
    /// Steps inside one timed sample: percentiles are over samples, each divided by this.
    public var stepsPerSample: Int
    public var p50Ns: Double
    public var p99Ns: Double
    public var p999Ns: Double
    public var maxNs: Double
    /// Steps divided by the sum of the timed intervals.
    public var stepsPerSecond: Double
    /// Heap allocations per step inside the timed intervals; nil when the allocation counter is not
    /// linked (the board binary), never a guess.
    public var allocsPerStep: Double?
    /// What one step includes, in a sentence.
    public var includes: String
    /// A value the kernel computed last (for the tests: the policy output, the loss, ...).
    public var checkValue: Double
}

/// What `KernelBench.run` measured, with the machine it ran on.
public struct BenchReport: Sendable {
    public var machine: MachineInfo
    /// Steps asked for per kernel.
    public var steps: Int
    public var results: [KernelResult]

    /// The result of `kernel`, if it ran.
    public func result(_ kernel: BenchKernel) -> KernelResult? {
        for r in results where r.kernel == kernel { return r }
        return nil
    }

    /// The report as one JSON object: the kernels by name, each with `p50_ns`, `p99_ns`, `p999_ns`,
    /// `max_ns`, `steps_per_second`, `allocs_per_step` (null when not measured), `steps` and
    /// `steps_per_sample`; plus `machine`, `build`, `cpu`, `cores`, `simd_path` and `clock_overhead_ns`.
    /// Keys sorted, as the host's other JSON output.
    public var json: String {
        var members: [(String, String)] = []
        for r in results {
            var fields: [(String, String)] = []
            fields.append(("allocs_per_step", r.allocsPerStep.map { benchJSONNumber($0) } ?? "null"))
            fields.append(("max_ns", benchJSONNumber(r.maxNs)))
            fields.append(("p50_ns", benchJSONNumber(r.p50Ns)))
            fields.append(("p999_ns", benchJSONNumber(r.p999Ns)))
            fields.append(("p99_ns", benchJSONNumber(r.p99Ns)))
            fields.append(("steps", "\(r.steps)"))
            fields.append(("steps_per_sample", "\(r.stepsPerSample)"))
            fields.append(("steps_per_second", benchJSONNumber(r.stepsPerSecond)))
            members.append((r.kernel.name, benchJSONObject(fields)))
        }
        members.append(("build", benchJSONString(machine.buildConfiguration)))
        members.append(("clock_overhead_ns", benchJSONNumber(machine.clockOverheadNs)))
        members.append(("cores", "\(machine.cores)"))
        members.append(("cpu", benchJSONString(machine.cpuModel)))
        members.append(("machine", benchJSONString(machine.summary)))
        members.append(("simd_path", benchJSONString(machine.simdPath)))
        members.sort { $0.0 < $1.0 }
        return benchJSONObject(members)
    }

    /// The report as a table with one line per kernel and what each step includes.
    public var text: String {
        var out = "machine: " + machine.summary + "\n"
        out += "simd path: " + machine.simdPath + "\n"
        out += "clock: CLOCK_MONOTONIC, " + fixedDecimals(machine.clockOverheadNs, 1)
            + " ns per reading (inside every timed sample, not subtracted)\n"
        out += "steps per kernel: \(steps) after warm-up\n\n"
        let header: [String] = ["kernel", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "steps/s", "allocs/step"]
        var rows: [[String]] = [header]
        for r in results {
            rows.append([r.kernel.name, fixedDecimals(r.p50Ns, 1), fixedDecimals(r.p99Ns, 1),
                         fixedDecimals(r.p999Ns, 1), fixedDecimals(r.maxNs, 1), fixedDecimals(r.stepsPerSecond, 0),
                         r.allocsPerStep.map { fixedDecimals($0, 2) } ?? "n/a"])
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.utf8.count) } }
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.utf8.count)
                line += i == 0 ? cell + pad : "  " + pad + cell
            }
            out += line + "\n"
        }
        out += "\n"
        for r in results {
            out += r.kernel.name + ": " + r.includes
            out += r.stepsPerSample > 1 ? " Timed in groups of \(r.stepsPerSample) steps (percentiles of group means).\n"
                                        : " Every step timed on its own.\n"
        }
        if results.contains(where: { $0.allocsPerStep == nil }) {
            out += "allocs/step n/a: this binary has no allocation counter (only the host CLI links it).\n"
        }
        return out
    }
}

/// Measures the kernels: each one is warmed up, then run for `steps` steps with every timed sample's
/// duration recorded (CLOCK_MONOTONIC through the C shim) and the calling thread's allocations counted
/// around each timed interval. All memory a kernel uses is allocated before its warm-up.
public struct KernelBench {
    /// Steps measured per kernel (after warm-up).
    public var steps: Int
    /// Kernels to run, in this order.
    public var kernels: [BenchKernel]
    /// Seed of every random number the kernels draw.
    public var seed: UInt64

    /// Fewest steps a run may ask for: enough samples for a p99.9 to mean something.
    public static let minimumSteps = 1_000
    /// Steps the issue asks for by default.
    public static let defaultSteps = 100_000
    /// Most steps a run may ask for: the timed samples are kept in one array (8 bytes each).
    public static let maximumSteps = 10_000_000

    public init(steps: Int = KernelBench.defaultSteps, kernels: [BenchKernel] = BenchKernel.allCases, seed: UInt64 = 1) {
        self.steps = steps
        self.kernels = kernels
        self.seed = seed
    }

    /// Runs every kernel in `kernels` and returns the report. `progress` is called with each kernel's
    /// name before it starts (for a status line).
    public func run(progress: (BenchKernel) -> Void = { _ in }) -> BenchReport {
        var results: [KernelResult] = []
        for kernel in kernels {
            progress(kernel)
            results.append(run(kernel))
        }
        return BenchReport(machine: MachineInfo.current(), steps: steps, results: results)
    }

    /// Runs one kernel.
    public func run(_ kernel: BenchKernel) -> KernelResult {
        switch kernel {
        case .policyForward:
            return measure(PolicyForwardWorkload(seed: seed), kernel: kernel, callsPerSample: 8)
        case .controlStep:
            return measure(ControlStepWorkload(seed: seed), kernel: kernel, callsPerSample: 1)
        case .imaginedStep:
            return measure(ImaginedStepWorkload(seed: seed), kernel: kernel, callsPerSample: 1)
        case .imaginedStepBatched:
            return measure(BatchedImaginedStepWorkload(seed: seed), kernel: kernel, callsPerSample: 1)
        case .ppoMinibatch:
            return measure(PPOMinibatchWorkload(seed: seed), kernel: kernel, callsPerSample: 1)
        case .dynamicsFitMinibatch:
            return measure(DynamicsFitWorkload(seed: seed), kernel: kernel, callsPerSample: 1)
        }
    }

    /// Warm-up, then timed samples of `callsPerSample` calls each until `steps` steps are measured.
    func measure<W: BenchWorkload>(_ workload: W, kernel: BenchKernel, callsPerSample: Int) -> KernelResult {
        precondition(callsPerSample == 1 || !workload.hasUntimedPreparation,
                     "a workload with untimed preparation is timed one call at a time")
        let stepsPerSample = workload.stepsPerCall * callsPerSample
        let samples = max(1, (steps + stepsPerSample - 1) / stepsPerSample)
        let warmupCalls = max(samples * callsPerSample / 10, 50)
        for _ in 0..<warmupCalls {
            workload.prepare()
            workload.call()
        }
        var times = [Int64](repeating: 0, count: samples)
        var allocations: UInt64 = 0
        var counted = AllocationCounter.isAvailable
        var total: Int64 = 0
        times.withUnsafeMutableBufferPointer { t in
            for s in 0..<samples {
                workload.prepare()
                let before = AllocationCounter.threadCount
                let start = edge_monotonic_ns()
                for _ in 0..<callsPerSample { workload.call() }
                let end = edge_monotonic_ns()
                if let made = AllocationCounter.allocations(since: before) { allocations &+= made } else { counted = false }
                t[s] = end - start
                total += end - start
            }
        }
        times.sort()
        let perStep = 1 / Double(stepsPerSample)
        func percentile(_ q: Double) -> Double {
            let rank = Int((q * Double(samples)).rounded(.up))
            return Double(times[min(max(rank, 1), samples) - 1]) * perStep
        }
        let measuredSteps = samples * stepsPerSample
        return KernelResult(
            kernel: kernel, steps: measuredSteps, stepsPerSample: stepsPerSample,
            p50Ns: percentile(0.5), p99Ns: percentile(0.99), p999Ns: percentile(0.999),
            maxNs: Double(times[samples - 1]) * perStep,
            stepsPerSecond: total > 0 ? Double(measuredSteps) * 1e9 / Double(total) : 0,
            allocsPerStep: counted ? Double(allocations) / Double(measuredSteps) : nil,
            includes: workload.includes, checkValue: workload.checkValue)
    }
}

/// What the bench times: `call()` is one timed call (`stepsPerCall` steps); `prepare()` runs untimed
/// before each (the plant's physics for the control step). All memory is allocated in `init`.
protocol BenchWorkload: AnyObject {
    var stepsPerCall: Int { get }
    var hasUntimedPreparation: Bool { get }
    var includes: String { get }
    /// A number from the last call, for tests to check the kernel computed what it claims.
    var checkValue: Double { get }
    func prepare()
    func call()
}

extension BenchWorkload {
    var stepsPerCall: Int { 1 }
    var hasUntimedPreparation: Bool { false }
    func prepare() {}
}

// MARK: - Number and JSON text (Embedded-safe: floats go through the C shim)

/// `value` with `decimals` digits after the point (`%.*f`-like), for the table.
func fixedDecimals(_ value: Double, _ decimals: Int) -> String {
    guard value.isFinite else { return "n/a" }
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e15 else { return formatFloat(value, digits: 6) }
    let integer = Int64(scaled)
    let divisor = Int64(scale)
    let whole = integer / divisor, fraction = integer % divisor
    var text = (value < 0 && integer != 0 ? "-" : "") + "\(whole)"
    if decimals > 0 {
        let digits = "\(fraction)"
        text += "." + String(repeating: "0", count: decimals - digits.utf8.count) + digits
    }
    return text
}

func benchJSONNumber(_ value: Double) -> String {
    value.isFinite ? formatFloat(value, digits: 9) : "null"
}

func benchJSONString(_ text: String) -> String {
    var bytes: [UInt8] = [UInt8(ascii: "\"")]
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), byte]
        case 0..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        default: bytes.append(byte)
        }
    }
    bytes.append(UInt8(ascii: "\""))
    return String(decoding: bytes, as: UTF8.self)
}

func benchJSONObject(_ members: [(String, String)]) -> String {
    var text = "{"
    for (i, member) in members.enumerated() {
        text += (i == 0 ? "" : ",") + benchJSONString(member.0) + ":" + member.1
    }
    return text + "}"
}
