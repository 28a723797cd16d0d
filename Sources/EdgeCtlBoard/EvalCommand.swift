import EdgeIO
import EdgeRuntime

/// `edge-ctl eval`: the saved policy's return on the simulated rig (Sources/edge-ctl/Eval.swift).
enum EvalCommand {
    static let spec = CommandSpec(
        path: "edge-ctl eval",
        abstract: "Evaluate the checkpoint's policy on the simulated rig (deterministic actions, true-state return).",
        options: DataOptions.options + [
            .option("--episodes", "episodes", "Episodes to run from random starts. (default: 10)"),
            .option("--seed", "seed", "Seed of the start states (the evaluation starts of the training run with the same seed)."),
            .flag("--json", "Print one JSON object."),
        ])

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let episodes = try arguments.integer("--episodes", default: 10, in: 1...Int.max)
        let seed = try arguments.unsigned("--seed")
        let s = try DataOptions.summary(arguments)
        guard s.hasCheckpoint, let rig = s.rig else { throw CommandFailure("error: \(s.path) has no checkpoint to evaluate") }
        let result: (mean: Float, std: Float)
        do {
            result = try evaluateCheckpoint(directory: s.path, rig: rig, episodes: episodes, seed: seed ?? s.checkpointSeed)
        } catch {
            throw CommandFailure("error: " + error.message)
        }
        if arguments.flag("--json") {
            var object = JSONObject()
            object.string("data", s.path)
            object.integer("episodes", episodes)
            object.number("eval_return_mean", Double(result.mean))
            object.number("eval_return_std", Double(result.std))
            object.string("rig", rig.rawValue)
            return object.text + "\n"
        }
        return "\(rig.rawValue): evaluation return " + fixed(Double(result.mean), decimals: 1) + " ± "
            + fixed(Double(result.std), decimals: 1) + " over \(episodes) episodes\n"
    }
}
