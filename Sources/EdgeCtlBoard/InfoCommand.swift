import EdgeIO
import EdgeRuntime

/// `edge-ctl info`: what a data directory holds (Sources/edge-ctl/Info.swift).
enum InfoCommand {
    static let spec = CommandSpec(
        path: "edge-ctl info",
        abstract: "Show what a data directory holds: transitions, checkpoint, last evaluation (every CRC is checked).",
        options: DataOptions.options + [.flag("--json", "Print one JSON object.")])

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let s = try DataOptions.summary(arguments)
        if arguments.flag("--json") {
            var object = JSONObject()
            if s.hasCheckpoint {
                var checkpoint = JSONObject()
                checkpoint.integer("bytes", s.checkpointBytes)
                checkpoint.number("eval_return_mean", s.evaluationMean)
                checkpoint.number("eval_return_std", s.evaluationStd)
                checkpoint.integer("iteration", s.checkpointIteration)
                checkpoint.string("path", s.path + "/checkpoint.bin")
                checkpoint.integer("real_steps", s.checkpointRealSteps)
                checkpoint.integer("seed", s.checkpointSeed)
                object.raw("checkpoint", checkpoint.text)
            } else {
                object.raw("checkpoint", "null")
            }
            object.string("data", s.path)
            object.integer("dataset_records", s.datasetRecords)
            object.string("rig", s.rig?.rawValue)
            object.integer("torn_tail_bytes", s.tornTailBytes)
            return object.text + "\n"
        }
        var text = "data directory: \(s.path)\n"
        text += "rig: \(s.rig?.rawValue ?? "unknown")\n"
        text += "transitions: \(s.datasetRecords)"
        if s.tornTailBytes > 0 { text += " (a torn tail of \(s.tornTailBytes) bytes will be dropped on resume)" }
        text += "\n"
        if s.hasCheckpoint {
            text += "checkpoint: iteration \(s.checkpointIteration), \(s.checkpointRealSteps) real steps, seed \(s.checkpointSeed), \(s.checkpointBytes) bytes"
            if let mean = s.evaluationMean, let std = s.evaluationStd {
                text += ", last evaluation " + fixed(mean, decimals: 1) + " ± " + fixed(std, decimals: 1)
            }
            text += "\n"
        } else {
            text += "checkpoint: none\n"
        }
        return text
    }
}
