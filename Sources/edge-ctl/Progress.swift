import EdgeCore
import EdgeRuntime
import Foundation

let simdPathSummary = String(simdPath.split(separator: ",").first ?? "")

/// The live progress line on standard error: redrawn in place on a terminal, one line per iteration
/// otherwise (logs, CI).
final class ProgressLine: TrainingObserver {
    let enabled: Bool
    /// Also print each durable event (transitions synced), one line each.
    let verbose: Bool
    let terminal = isatty(2) != 0
    private var drawn = false

    init(enabled: Bool, verbose: Bool = false) { self.enabled = enabled; self.verbose = verbose }

    func transitionsSynced(_ count: Int) {
        guard verbose else { return }
        finish()
        FileHandle.standardError.write(Data("synced \(count) transitions\n".utf8))
    }

    func note(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func iterationFinished(_ s: IterationStats, options: TrainingOptions) {
        guard enabled else { return }
        let i = s.improvement
        // Without evaluation episodes (a board): the collected episode's return from the sensors.
        let line = options.evaluationEpisodes == 0
            ? String(format: "iter %3d  real steps %5d/%d  model NLL %7.3f  imagined return %8.1f  episode return %8.1f (sensors)  %6.1f s",
                     s.iteration, s.realSteps, options.maxRealSteps, i.dynamicsFit.holdoutLoss,
                     i.imaginedReturn, s.episodeReturn, s.elapsedSeconds)
            : String(format: "iter %3d  real steps %5d/%d  model NLL %7.3f  imagined return %8.1f  eval return %8.1f ± %6.1f  %6.1f s",
                     s.iteration, s.realSteps, options.maxRealSteps, i.dynamicsFit.holdoutLoss,
                     i.imaginedReturn, s.evaluationMean, s.evaluationStd, s.elapsedSeconds)
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
            drawn = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)); drawn = false }
    }
}

extension TrainingSummary {
    var text: String {
        var lines: [String] = []
        lines.append(String(format: "rig %@, seed %llu: %d real steps in %d iterations, %.1f s",
                            rig.rawValue, seed, realSteps, iterations, wallSeconds))
        if evaluationEpisodes == 0 {
            lines.append(String(format: "no evaluation episodes; last collected episode's return %.1f (sensor reward, exploring policy)",
                                curve.last?.episodeReturn ?? 0))
        } else {
            lines.append(String(format: "evaluation return %.1f ± %.1f over %d episodes (true state, deterministic policy)",
                                evaluationMean, evaluationStd, evaluationEpisodes))
        }
        lines.append(String(format: "time: model fitting %.1f s, imagination %.1f s, PPO %.1f s, evaluation %.1f s, real episodes %.1f s",
                            fitSeconds, imaginationSeconds, ppoSeconds, evaluationSeconds, collectionSeconds))
        lines.append(controlText)
        return lines.joined(separator: "\n")
    }

    var jsonText: String {
        var object: [String: Any] = [
            "rig": rig.rawValue, "seed": seed, "real_steps": realSteps, "iterations": iterations,
            "eval_return_mean": Double(evaluationMean), "eval_return_std": Double(evaluationStd),
            "eval_episodes": evaluationEpisodes, "wall_seconds": wallSeconds,
            "seconds": ["model_fitting": fitSeconds, "imagination": imaginationSeconds, "ppo": ppoSeconds,
                        "evaluation": evaluationSeconds, "real_episodes": collectionSeconds],
            "learner": learner.rawValue, "dropped_transitions": droppedTransitions,
            "unlearned_transitions": unlearnedTransitions,
            "policies_published": policiesPublished, "policies_taken": policiesTaken,
            "control": [
                "steps": control.steps, "latency_p50_ns": control.latencyP50Ns, "latency_p99_ns": control.latencyP99Ns,
                "latency_max_ns": control.latencyMaxNs, "jitter_p50_ns": control.jitterP50Ns,
                "jitter_p99_ns": control.jitterP99Ns, "missed_deadlines": control.missedDeadlines,
                "allocations": control.allocations.map { Int($0) as Any } ?? NSNull(),
                "safe_action_steps": control.safety.safeActionSteps,
            ] as [String: Any],
        ]
        object["curve"] = curve.map { s -> [String: Any] in
            ["iteration": s.iteration, "real_steps": s.realSteps, "episode_return": Double(s.episodeReturn),
             "eval_return_mean": Double(s.evaluationMean), "eval_return_std": Double(s.evaluationStd),
             "imagined_return": Double(s.improvement.imaginedReturn),
             "model_holdout_nll": s.improvement.dynamicsFit.holdoutLoss, "elapsed_seconds": s.elapsedSeconds]
        }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
