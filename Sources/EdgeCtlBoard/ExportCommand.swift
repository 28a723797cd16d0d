import EdgeCore
import EdgeIO
import EdgeRuntime

/// `edge-ctl export`: a run's data in formats other tools read (Sources/edge-ctl/Export.swift); the
/// same files, written atomically. Numbers are printed with 9 (Float) or 17 (Double) significant
/// digits where the host prints Swift's shortest form: the values read back the same.
enum ExportCommand {
    static let spec = CommandSpec(
        path: "edge-ctl export",
        abstract: "Export a run: the transitions as CSV, the learning curve as CSV, the policy weights as JSON.",
        options: DataOptions.options + [
            .option("--dataset", "dataset", "Write the transitions (obs, action, reward, next obs, terminal, episode) as CSV to this file."),
            .option("--curve", "curve", "Write the learning curve (real steps, evaluation and imagined returns) as CSV to this file."),
            .option("--policy", "policy", "Write the policy weights as JSON to this file."),
        ],
        discussion: """
        Policy JSON: {"format": "edge-ctl-policy-1", "rig", "activation": "tanh", "observation_bounds",
        "layers": [{"inputs", "outputs", "weights": [input][output], "bias"}] x3, "log_std"}.
        action = clip(L3(tanh(L2(tanh(L1(obs / observation_bounds))))), -1, 1) with L(x) = x·weights + bias.
        """)

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let dataset = arguments.string("--dataset"), curve = arguments.string("--curve")
        let policy = arguments.string("--policy")
        _ = try DataOptions.rig(arguments)
        if dataset == nil && curve == nil && policy == nil {
            throw spec.usageError("say what to export: --dataset FILE, --curve FILE and/or --policy FILE")
        }
        let s = try DataOptions.summary(arguments)
        if (curve != nil || policy != nil) && !s.hasCheckpoint {
            throw CommandFailure("error: \(s.path) has no checkpoint (the curve and the policy are kept there)")
        }
        var report = ""
        do throws(FileError) {
            if let dataset {
                try write(try exportTransitionsCSV(directory: s.path), to: dataset)
                report += "wrote \(s.datasetRecords) transitions to \(dataset)\n"
            }
            if let curve {
                let points = try writeCurve(directory: s.path, to: curve)
                report += "wrote \(points) points to \(curve)\n"
            }
        } catch {
            throw CommandFailure("error: " + error.message)
        }
        if let policy, let rig = s.rig {
            do throws(TrainingError) {
                let weights = try exportPolicy(directory: s.path, rig: rig)
                do { try write(policyJSON(weights), to: policy) } catch { throw .file(error) }
            } catch {
                throw CommandFailure("error: " + error.message)
            }
            report += "wrote the \(rig.rawValue) policy to \(policy)\n"
        }
        return report
    }

    /// The learning curve kept in the checkpoint, as CSV; returns the number of points.
    static func writeCurve(directory: String, to path: String) throws(FileError) -> Int {
        let checkpoint = DataDirectory(path: directory).checkpointPath
        let c = CheckpointReader(try Checkpoint.read(from: checkpoint), path: checkpoint)
        let steps = try c.integers("curve.realSteps"), mean = try c.doubles("curve.evalMean")
        let std = try c.doubles("curve.evalStd"), imagined = try c.doubles("curve.imaginedReturn")
        var text = "real_steps,eval_return_mean,eval_return_std,imagined_return\n"
        for i in 0..<steps.count {
            text += "\(steps[i]),\(formatFloat(mean[i], digits: 17)),\(formatFloat(std[i], digits: 17)),"
                + formatFloat(imagined[i], digits: 17) + "\n"
        }
        try write(text, to: path)
        return steps.count
    }

    /// The host's policy JSON, keys sorted.
    static func policyJSON(_ w: PolicyWeights) -> String {
        let floats = { (values: [Float]) in jsonArray(values.map { jsonNumber(Double($0)) }) }
        var object = JSONObject()
        object.string("activation", "tanh")
        object.string("format", "edge-ctl-policy-1")
        object.raw("layers", jsonArray(w.layers.map { layer in
            var l = JSONObject()
            l.raw("bias", floats(layer.bias))
            l.integer("inputs", layer.inputs)
            l.integer("outputs", layer.outputs)
            l.raw("weights", jsonArray(layer.weights.map(floats)))
            return l.text
        }))
        object.raw("log_std", floats(w.logStd))
        object.raw("observation_bounds", floats(w.observationBounds))
        object.string("rig", w.rig.rawValue)
        return object.text
    }

    static func write(_ text: String, to path: String) throws(FileError) {
        try FileSystem.writeAtomically(Array(text.utf8), to: path)
    }
}
