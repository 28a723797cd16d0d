import ArgumentParser
import EdgeRuntime
import Foundation

/// `edge-ctl eval`: the saved policy's return on the simulated rig, from the rig's true state.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate the checkpoint's policy on the simulated rig (deterministic actions, true-state return).")

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var plantOptions: PlantOptions

    @Option(help: "Episodes to run from random starts.")
    var episodes: Int = 10

    @Option(help: "Seed of the start states (the evaluation starts of the training run with the same seed).")
    var seed: UInt64?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard episodes > 0 else { throw ValidationError("--episodes must be at least 1") }
    }

    func run() throws {
        if plantOptions.plant != nil { return try evaluateOnPlant(plantOptions) }
        let s = try dataOptions.summary()
        guard s.hasCheckpoint, let rig = s.rig else { throw RuntimeError("\(s.path) has no checkpoint to evaluate") }
        let result: (mean: Float, std: Float)
        do {
            result = try evaluateCheckpoint(directory: s.path, rig: rig, episodes: episodes, seed: seed ?? s.checkpointSeed)
        } catch {
            throw RuntimeError(error.message)
        }
        if json {
            let object: [String: Any] = ["data": s.path, "rig": rig.rawValue, "episodes": episodes,
                                         "eval_return_mean": Double(result.mean), "eval_return_std": Double(result.std)]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: evaluation return %.1f ± %.1f over %d episodes", rig.rawValue, result.mean, result.std, episodes))
        }
    }
}
