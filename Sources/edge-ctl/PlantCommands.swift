import ArgumentParser
import EdgeLearning
import EdgeRuntime
import Foundation

/// `--plant` and its timeouts, shared by `train`, `eval` and `run`: an external plant speaking the
/// edge-plant protocol (README, "Bring your own simulator").
struct PlantOptions: ParsableArguments {
    @Option(name: .customLong("plant"), help: ArgumentHelp(
        "An external plant instead of a rig: exec:'COMMAND ARGS' (edge-ctl starts it) or unix:PATH (edge-ctl connects to it).",
        discussion: "Example: --plant exec:'python3 examples/gymnasium_bridge.py Pendulum-v1'"))
    var plant: String?

    @Option(name: .customLong("plant-timeout"), help: "Seconds an external plant has to answer each reset and step.")
    var plantTimeout: Double = 10

    @Option(name: .customLong("plant-handshake-timeout"), help: "Seconds an external plant has to start and send its handshake.")
    var handshakeTimeout: Double = 60

    func validate() throws {
        if let plant, PlantAddress(plant) == nil {
            throw ValidationError("--plant '\(plant)' is not a plant address: use exec:'COMMAND ARGS' or unix:PATH")
        }
        guard plantTimeout > 0, handshakeTimeout > 0 else {
            throw ValidationError("--plant-timeout and --plant-handshake-timeout must be above 0")
        }
    }

    /// Starts or connects to the plant and reads its handshake (nil without --plant).
    func connect() throws -> ExternalPlant? {
        guard let plant, let address = PlantAddress(plant) else { return nil }
        var options = ExternalPlantOptions()
        options.stepTimeoutSeconds = plantTimeout
        options.handshakeTimeoutSeconds = handshakeTimeout
        do throws(ExternalPlantError) {
            return try ExternalPlant(address: address, options: options)
        } catch {
            throw RuntimeError(error.message)
        }
    }

    /// The data directory of an external-plant run for `eval` and `run`: --data, else the latest
    /// external run; checked to hold a checkpoint of an external plant.
    static func checkpointDirectory(data: String?) throws -> DataSummary {
        guard let path = data ?? DataDirectory.latestExternalRun() else {
            throw RuntimeError("no external-plant run under \(DataDirectory.defaultRoot())/external: train one first (edge-ctl train --plant ...) or pass --data DIR")
        }
        let s: DataSummary
        do throws(FileError) { s = try DataDirectory(path: path).summary() } catch { throw RuntimeError(error.message) }
        guard s.hasCheckpoint else { throw RuntimeError("\(path) has no checkpoint") }
        guard s.externalObservations != nil else {
            throw RuntimeError("\(path) holds a run on the simulated \(s.rig?.rawValue ?? "unknown") rig, not on an external plant: drop --plant")
        }
        return s
    }
}

/// "plant exec:'...' (Pendulum-v1: 3 observations, 1 action, episodes of 200 steps, period 0.05 s)".
func describe(_ plant: ExternalPlant) -> String {
    let d = plant.description
    let name = d.name.isEmpty ? "" : d.name + ": "
    return "plant \(plant.label) (\(name)\(d.observationSize) observations, \(d.actionSize) action\(d.actionSize == 1 ? "" : "s"), "
        + "episodes of \(d.episodeSteps) steps" + (d.periodSeconds > 0 ? ", period \(d.periodSeconds) s)" : ")")
}

extension Train {
    /// `train --plant`: the lockstep loop on an external plant (observations and rewards from the plant).
    func trainOnPlant(_ plantOptions: PlantOptions, hyperparameters h: Hyperparameters) throws {
        if knownReward { throw ValidationError("--known-reward needs a rig's reward function; an external plant's reward is learned") }
        if asynchronous { throw ValidationError("--async is for rigs for now; an external plant trains in lockstep") }
        var options = TrainingOptions()
        options.seed = seed
        options.iterations = iterations
        options.maxRealSteps = maxRealSteps
        options.evaluationEpisodes = evalEpisodes
        options.randomEpisodes = randomEpisodes
        options.resume = resume
        // The plant first: its handshake says whether this build can learn it, before a run directory exists.
        guard let plant = try plantOptions.connect() else { return }
        defer { plant.close() }
        let (n, m) = (plant.description.observationSize, plant.description.actionSize)
        guard externalPlantShapes.contains(where: { $0 == (n, m) }) else {
            throw RuntimeError(ExternalPlantError(plant: plant.label, fault: .unsupportedShape(
                observations: n, actions: m, supported: externalPlantShapesText)).message)
        }
        let directory: String
        do throws(FileError) { directory = try DataDirectory.forExternalTraining(data: data, resume: resume) } catch {
            throw RuntimeError(error.message)
        }
        options.dataDirectory = directory
        let progress = ProgressLine(enabled: !quiet || verbose, verbose: verbose)
        progress.note("edge-ctl: \(resume ? "resuming" : "training") on \(describe(plant)), seed \(seed), up to \(maxRealSteps) real steps; data in \(directory); SIMD: \(simdPathSummary)")
        let summary: TrainingSummary
        do throws(ExternalTrainingError) {
            summary = try trainOnExternalPlant(plant: plant, options: options, hyperparameters: h, observer: progress)
        } catch {
            progress.finish()
            if case .plant = error {
                throw RuntimeError(error.message + " (every transition collected before this is synced in \(directory))")
            }
            throw RuntimeError(error.message)
        }
        progress.finish()
        if summary.recoveredRecords > 0 || summary.droppedTailBytes > 0 {
            progress.note("recovered \(summary.recoveredRecords) transitions from \(directory)/transitions.log" +
                          (summary.droppedTailBytes > 0 ? " (dropped a torn tail of \(summary.droppedTailBytes) bytes)" : ""))
        }
        let curvePath = directory + "/learning-curve.svg"
        do {
            try summary.learningCurvePlot.write(to: curvePath)
            progress.note("wrote \(curvePath)")
        } catch {
            progress.note("warning: \(error.message)")
        }
        if json {
            let object: [String: Any] = [
                "plant": plant.label, "plant_name": plant.description.name, "seed": seed, "data": directory,
                "iterations": summary.iterations, "real_steps": summary.realSteps,
                "eval_return_mean": Double(summary.evaluationMean), "eval_return_std": Double(summary.evaluationStd),
                "eval_episodes": summary.evaluationEpisodes, "wall_seconds": summary.wallSeconds,
                "curve": summary.curve.map { ["real_steps": $0.realSteps, "eval_return_mean": Double($0.evaluationMean),
                                              "episode_return": Double($0.episodeReturn)] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: %d iterations, %d real steps, evaluation return %.1f ± %.1f over %d episodes, %.1f s",
                         plant.label, summary.iterations, summary.realSteps, summary.evaluationMean,
                         summary.evaluationStd, summary.evaluationEpisodes, summary.wallSeconds))
        }
    }
}

extension Eval {
    /// `eval --plant`: the checkpoint's deterministic policy on the plant's own reward.
    func evaluateOnPlant(_ plantOptions: PlantOptions) throws {
        let s = try PlantOptions.checkpointDirectory(data: dataOptions.data)
        guard let plant = try plantOptions.connect() else { return }
        defer { plant.close() }
        let result: ExternalPolicyRun
        do throws(ExternalTrainingError) {
            result = try runCheckpointOnExternalPlant(plant: plant, directory: s.path, episodes: episodes,
                                                      seed: seed ?? s.checkpointSeed, paced: false)
        } catch {
            throw RuntimeError(error.message)
        }
        if json {
            let object: [String: Any] = ["data": s.path, "plant": plant.label, "episodes": episodes,
                                         "eval_return_mean": Double(result.mean), "eval_return_std": Double(result.std)]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: evaluation return %.1f ± %.1f over %d episodes", plant.label, result.mean, result.std, episodes))
        }
    }
}

extension Run {
    /// `run --plant`: the checkpoint's policy on the plant, one step per declared period (absolute
    /// deadlines), with the round-trip time of each step.
    func runOnPlant(_ plantOptions: PlantOptions) throws {
        let s = try PlantOptions.checkpointDirectory(data: dataOptions.data)
        guard let plant = try plantOptions.connect() else { return }
        defer { plant.close() }
        let result: ExternalPolicyRun
        do throws(ExternalTrainingError) {
            result = try runCheckpointOnExternalPlant(plant: plant, directory: s.path, episodes: episodes,
                                                      seed: seed ?? s.checkpointSeed, paced: true)
        } catch {
            throw RuntimeError(error.message)
        }
        if json {
            let object: [String: Any] = [
                "plant": plant.label, "steps": result.steps, "episodes": result.returns.count,
                "return_mean": Double(result.mean), "step_p50_ns": result.stepP50Ns, "step_p99_ns": result.stepP99Ns,
                "step_max_ns": result.stepMaxNs, "missed_deadlines": result.missedDeadlines,
                "period_s": plant.description.periodSeconds,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: %d steps, %d episodes, return %.1f (episodes: %@)", plant.label, result.steps,
                         result.returns.count, result.mean,
                         result.returns.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
            print("step round trip (action out, observation in) p50 \(formatDuration(result.stepP50Ns)), "
                  + "p99 \(formatDuration(result.stepP99Ns)), max \(formatDuration(result.stepMaxNs)); "
                  + (plant.description.periodSeconds > 0
                     ? "paced at \(plant.description.periodSeconds) s, missed deadlines \(result.missedDeadlines)"
                     : "not paced (the plant declared period 0)"))
        }
    }
}
