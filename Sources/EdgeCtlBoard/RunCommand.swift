import EdgeIO
import EdgeRuntime

/// `edge-ctl run`: deploys a checkpoint's policy on the simulated rig through the real-time control
/// loop, without learning (as Sources/edge-ctl/Run.swift). Hardware runs wait for the loop's libgpiod wiring.
enum RunCommand {
    static let spec = CommandSpec(
        path: "edge-ctl run",
        abstract: "Run the checkpoint's policy in the real-time control loop (no learning) and report its timing.",
        options: [.flag("--sim", "Run on the simulated board (required: hardware runs are not wired yet).")]
            + DataOptions.options
            + [.option("--episodes", "episodes", "Episodes to run back to back from the evaluation starts. (default: 5)"),
               .option("--seed", "seed", "Seed of the start states (default: the training run's seed)."),
               .flag("--json", "Print one JSON object.")])

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        guard arguments.flag("--sim") || arguments.string("--board") == "sim" else {
            throw spec.usageError("a hardware run needs the libgpiod backend wired to the control loop, which is not done yet; use --sim")
        }
        let episodes = try arguments.integer("--episodes", default: 5, in: 1...Int.max)
        let s = try DataOptions.summary(arguments)
        guard s.hasCheckpoint, let rig = s.rig else { throw CommandFailure("error: \(s.path) has no checkpoint to run") }
        let seed = try arguments.unsigned("--seed") ?? s.checkpointSeed
        StopSignal.installHandlers()
        let r: PolicyRunReport
        do {
            r = try runCheckpointPolicy(directory: s.path, rig: rig, episodes: episodes, seed: seed, stopsOnSignals: true)
        } catch {
            throw CommandFailure("error: " + error.message)
        }
        if arguments.flag("--json") {
            var object = JSONObject()
            object.integer("allocations_per_step", Int(r.control.allocations.map { $0 / UInt64(max(r.steps, 1)) } ?? 0))
            object.integer("episodes", r.episodes)
            object.integer("latency_max_ns", Int(r.control.latencyMaxNs))
            object.integer("latency_p50_ns", Int(r.control.latencyP50Ns))
            object.integer("latency_p99_ns", Int(r.control.latencyP99Ns))
            object.integer("missed_deadlines", r.control.missedDeadlines)
            object.number("return_mean", Double(r.returnMean))
            object.string("rig", rig.rawValue)
            object.string("safety", r.control.safety.summary)
            object.integer("steps", r.steps)
            return object.text + "\n"
        }
        var text = "\(rig.rawValue): \(r.steps) steps, \(r.episodes) episodes, return " + fixed(Double(r.returnMean), decimals: 1) + " per episode\n"
        text += "latency p50 \(r.control.latencyP50Ns) ns, p99 \(r.control.latencyP99Ns) ns, max \(r.control.latencyMaxNs) ns; missed deadlines \(r.control.missedDeadlines)\n"
        text += r.control.safety.summary + "\n"
        return text
    }
}
