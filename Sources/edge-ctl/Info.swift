import ArgumentParser
import EdgeRuntime
import Foundation

/// `edge-ctl info`: what a data directory holds.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what a data directory holds: transitions, checkpoint, last evaluation (every CRC is checked).")

    @OptionGroup var dataOptions: DataOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let s = try dataOptions.summary()
        if json {
            var object: [String: Any] = ["data": s.path, "rig": s.rig?.rawValue ?? (s.externalObservations != nil ? "external" : NSNull()),
                                         "dataset_records": s.datasetRecords, "torn_tail_bytes": s.tornTailBytes]
            if s.hasCheckpoint {
                object["checkpoint"] = ["path": s.path + "/checkpoint.bin", "bytes": s.checkpointBytes,
                                        "iteration": s.checkpointIteration, "seed": s.checkpointSeed,
                                        "real_steps": s.checkpointRealSteps,
                                        "eval_return_mean": s.evaluationMean ?? NSNull(),
                                        "eval_return_std": s.evaluationStd ?? NSNull()] as [String: Any]
            } else {
                object["checkpoint"] = NSNull()
            }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("data directory: \(s.path)")
        if let n = s.externalObservations, let m = s.externalActions {
            print("plant: external (\(n) observations, \(m) action\(m == 1 ? "" : "s"))")
        } else {
            print("rig: \(s.rig?.rawValue ?? "unknown")")
        }
        print("transitions: \(s.datasetRecords)" + (s.tornTailBytes > 0 ? " (a torn tail of \(s.tornTailBytes) bytes will be dropped on resume)" : ""))
        if s.hasCheckpoint {
            var line = "checkpoint: iteration \(s.checkpointIteration), \(s.checkpointRealSteps) real steps, seed \(s.checkpointSeed), \(s.checkpointBytes) bytes"
            if let m = s.evaluationMean, let d = s.evaluationStd { line += String(format: ", last evaluation %.1f ± %.1f", m, d) }
            print(line)
        } else {
            print("checkpoint: none")
        }
    }
}
