import ArgumentParser
import EdgeRuntime
import Foundation

/// `edge-ctl export`: a run's data in formats other tools read.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a run: the transitions as CSV, the learning curve as CSV, the policy weights as JSON.",
        discussion: """
        Policy JSON: {"format": "edge-ctl-policy-1", "rig", "activation": "tanh", "observation_bounds",
        "layers": [{"inputs", "outputs", "weights": [input][output], "bias"}] x3, "log_std"}.
        action = clip(L3(tanh(L2(tanh(L1(obs / observation_bounds))))), -1, 1) with L(x) = x·weights + bias.
        """)

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Write the transitions (obs, action, reward, next obs, terminal, episode) as CSV to this file.")
    var dataset: String?

    @Option(help: "Write the learning curve (real steps, evaluation and imagined returns) as CSV to this file.")
    var curve: String?

    @Option(help: "Write the policy weights as JSON to this file.")
    var policy: String?

    func validate() throws {
        if dataset == nil && curve == nil && policy == nil {
            throw ValidationError("say what to export: --dataset FILE, --curve FILE and/or --policy FILE")
        }
    }

    func run() throws {
        let s = try dataOptions.summary()
        do {
            if let dataset {
                try exportTransitionsCSV(directory: s.path).write(toFile: dataset, atomically: true, encoding: .utf8)
                print("wrote \(s.datasetRecords) transitions to \(dataset)")
            }
            if let curve {
                guard s.hasCheckpoint else { throw RuntimeError("\(s.path) has no checkpoint (the curve is kept there)") }
                let c = CheckpointReader(try Checkpoint.read(from: s.path + "/checkpoint.bin"), path: s.path + "/checkpoint.bin")
                let steps = try c.integers("curve.realSteps"), mean = try c.doubles("curve.evalMean")
                let std = try c.doubles("curve.evalStd"), imagined = try c.doubles("curve.imaginedReturn")
                var text = "real_steps,eval_return_mean,eval_return_std,imagined_return\n"
                for i in 0..<steps.count { text += "\(steps[i]),\(mean[i]),\(std[i]),\(imagined[i])\n" }
                try text.write(toFile: curve, atomically: true, encoding: .utf8)
                print("wrote \(steps.count) points to \(curve)")
            }
            if let policy {
                guard s.hasCheckpoint, let rig = s.rig else { throw RuntimeError("\(s.path) has no checkpoint") }
                let w = try exportPolicy(directory: s.path, rig: rig)
                let object: [String: Any] = [
                    "format": "edge-ctl-policy-1", "rig": rig.rawValue, "activation": "tanh",
                    "observation_bounds": w.observationBounds.map(Double.init), "log_std": w.logStd.map(Double.init),
                    "layers": w.layers.map { l in ["inputs": l.inputs, "outputs": l.outputs,
                                                   "weights": l.weights.map { $0.map(Double.init) },
                                                   "bias": l.bias.map(Double.init)] as [String: Any] },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                try data.write(to: URL(fileURLWithPath: policy), options: .atomic)
                print("wrote the \(rig.rawValue) policy to \(policy)")
            }
        } catch let error as FileError {
            throw RuntimeError(error.message)
        } catch let error as TrainingError {
            throw RuntimeError(error.message)
        }
    }
}
