import EdgeCore
import EdgeIO
import EdgeLearning
import EdgeRuntime

/// The SIMD path's first clause, for the start line (the host prints the same).
let simdPathSummary = String(simdPath.utf8.split(separator: UInt8(ascii: ",")).first.map { String(decoding: $0, as: UTF8.self) } ?? "")

/// Progress on standard error, one plain line per iteration (a board's log or a serial console has no
/// use for the host's redrawn line). Numbers are formatted by hand: Embedded Swift has no `String(format:)`.
final class ProgressLines: TrainingObserver {
    let enabled: Bool
    let verbose: Bool

    init(enabled: Bool, verbose: Bool = false) {
        self.enabled = enabled
        self.verbose = verbose
    }

    func note(_ text: String) {
        if enabled { printError(text) }
    }

    /// With --verbose, each durable event on its own line (what a crash from here on cannot lose).
    func transitionsSynced(_ count: Int) {
        if verbose { printError("synced \(count) transitions") }
    }

    func iterationFinished(_ s: IterationStats, options: TrainingOptions) {
        guard enabled else { return }
        var line = "iter " + padLeft("\(s.iteration)", 3)
        line += "  real steps " + padLeft("\(s.realSteps)", 5) + "/\(options.maxRealSteps)"
        line += "  model NLL " + padLeft(fixed(Double(s.improvement.dynamicsFit.holdoutLoss), decimals: 3), 7)
        line += "  imagined return " + padLeft(fixed(Double(s.improvement.imaginedReturn), decimals: 1), 8)
        if options.evaluationEpisodes == 0 {  // a board: the collected episode's return from the sensors
            line += "  episode return " + padLeft(fixed(Double(s.episodeReturn), decimals: 1), 8) + " (sensors)"
        } else {
            line += "  eval return " + padLeft(fixed(Double(s.evaluationMean), decimals: 1), 8)
            line += " ± " + padLeft(fixed(Double(s.evaluationStd), decimals: 1), 6)
        }
        line += "  " + padLeft(fixed(s.elapsedSeconds, decimals: 1), 6) + " s"
        printError(line)
    }
}

extension TrainingSummary {
    /// The host's text summary, line for line.
    var text: String {
        "rig \(rig.rawValue), seed \(seed): \(realSteps) real steps in \(iterations) iterations, "
            + fixed(wallSeconds, decimals: 1) + " s\n"
            + (evaluationEpisodes == 0
                ? "no evaluation episodes; last collected episode's return "
                    + fixed(Double(curve.last?.episodeReturn ?? 0), decimals: 1) + " (sensor reward, exploring policy)\n"
                : "evaluation return " + fixed(Double(evaluationMean), decimals: 1) + " ± "
                    + fixed(Double(evaluationStd), decimals: 1)
                    + " over \(evaluationEpisodes) episodes (true state, deterministic policy)\n")
            + "time: model fitting " + fixed(fitSeconds, decimals: 1) + " s, imagination "
            + fixed(imaginationSeconds, decimals: 1) + " s, PPO " + fixed(ppoSeconds, decimals: 1)
            + " s, evaluation " + fixed(evaluationSeconds, decimals: 1) + " s, real episodes "
            + fixed(collectionSeconds, decimals: 1) + " s\n" + controlText
    }

    /// The host's `--json` object: the same keys, sorted as the host sorts them.
    var jsonText: String {
        var curveItems: [String] = []
        for s in curve {
            var item = JSONObject()
            item.number("elapsed_seconds", s.elapsedSeconds)
            item.number("episode_return", Double(s.episodeReturn))
            item.number("eval_return_mean", Double(s.evaluationMean))
            item.number("eval_return_std", Double(s.evaluationStd))
            item.number("imagined_return", Double(s.improvement.imaginedReturn))
            item.integer("iteration", s.iteration)
            item.number("model_holdout_nll", Double(s.improvement.dynamicsFit.holdoutLoss))
            item.integer("real_steps", s.realSteps)
            curveItems.append(item.text)
        }
        var seconds = JSONObject()
        seconds.number("evaluation", evaluationSeconds)
        seconds.number("imagination", imaginationSeconds)
        seconds.number("model_fitting", fitSeconds)
        seconds.number("ppo", ppoSeconds)
        seconds.number("real_episodes", collectionSeconds)

        var control = JSONObject()
        if let allocations = self.control.allocations { control.integer("allocations", Int(allocations)) } else { control.raw("allocations", "null") }
        control.integer("jitter_p50_ns", Int(self.control.jitterP50Ns))
        control.integer("jitter_p99_ns", Int(self.control.jitterP99Ns))
        control.integer("latency_max_ns", Int(self.control.latencyMaxNs))
        control.integer("latency_p50_ns", Int(self.control.latencyP50Ns))
        control.integer("latency_p99_ns", Int(self.control.latencyP99Ns))
        control.integer("missed_deadlines", self.control.missedDeadlines)
        control.integer("safe_action_steps", self.control.safety.safeActionSteps)
        control.integer("steps", self.control.steps)

        var object = JSONObject()
        object.raw("control", control.text)
        object.raw("curve", jsonArray(curveItems))
        object.integer("dropped_transitions", droppedTransitions)
        object.integer("unlearned_transitions", unlearnedTransitions)
        object.integer("eval_episodes", evaluationEpisodes)
        object.number("eval_return_mean", Double(evaluationMean))
        object.number("eval_return_std", Double(evaluationStd))
        object.integer("iterations", iterations)
        object.string("learner", learner.rawValue)
        object.integer("policies_published", policiesPublished)
        object.integer("policies_taken", policiesTaken)
        object.integer("real_steps", realSteps)
        object.string("rig", rig.rawValue)
        object.raw("seconds", seconds.text)
        object.integer("seed", seed)
        object.number("wall_seconds", wallSeconds)
        return object.text
    }
}
