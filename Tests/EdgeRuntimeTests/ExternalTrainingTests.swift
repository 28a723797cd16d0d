import EdgeLearning
import EdgeRuntime
import Foundation
import Testing

/// Records each iteration of a training run.
final class ExternalCurve: TrainingObserver {
    var stats: [IterationStats] = []
    var synced: [Int] = []
    func iterationFinished(_ s: IterationStats, options: TrainingOptions) { stats.append(s) }
    func transitionsSynced(_ count: Int) { synced.append(count) }
}

/// The records of a transition log: (terminal flag, episode) of each, in order.
func loggedTransitions(_ directory: String, observations: Int, actions: Int) throws -> [(terminal: Bool, episode: Int)] {
    var rows: [(Bool, Int)] = []
    let tail = 4 * (2 * observations + actions + 1)
    _ = try RecordLog(path: DataDirectory(path: directory).transitionsPath,
                      schema: TransitionRecord.externalSchema(observations: observations, actions: actions)) { payload in
        rows.append((payload[tail] != 0, Int(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))))
    }
    return rows.map { (terminal: $0.0, episode: $0.1) }
}

func trainingOptions(_ directory: String, steps: Int, evaluationEpisodes: Int = 2) -> TrainingOptions {
    var o = TrainingOptions()
    o.seed = 5
    o.maxRealSteps = steps
    o.evaluationEpisodes = evaluationEpisodes
    o.dataDirectory = directory
    return o
}

/// Small learning budgets: these tests check the plumbing, not the learning.
func quickHyperparameters() -> Hyperparameters {
    var h = Hyperparameters()
    try? h.apply(override: "ppoIterationsPerEpisode=2")
    return h
}

@Suite("External plant: training, evaluation, dataset", .serialized, .enabled(if: python3Path != nil, "python3 not found"))
struct ExternalTrainingTests {
    @Test("a short training run on the tiny plant: curve, synced log and checkpoint; eval of the checkpoint repeats the last evaluation")
    func shortTrainingRun() throws {
        try withTemporaryDirectory { dir in
            let plant = try ExternalPlant(address: tinyPlant())
            let curve = ExternalCurve()
            let summary = try trainOnExternalPlant(plant: plant, options: trainingOptions(dir, steps: 150),
                                                   hyperparameters: quickHyperparameters(), observer: curve)
            #expect(summary.realSteps == 150 && summary.iterations == 3)
            #expect(curve.stats.map(\.realSteps) == [50, 100, 150])
            #expect(curve.synced == [50, 100, 150])
            #expect(summary.evaluationMean.isFinite && summary.evaluationMean < 0)
            let rows = try loggedTransitions(dir, observations: 2, actions: 1)
            #expect(rows.count == 150 && rows.map(\.episode) == (0..<150).map { $0 / 50 })
            #expect(!rows.contains { $0.terminal }, "the tiny plant truncates at 50 steps; nothing is terminal")
            let info = try DataDirectory(path: dir).summary()
            #expect(info.externalObservations == 2 && info.externalActions == 1 && info.rig == nil)
            #expect(info.datasetRecords == 150 && info.hasCheckpoint && info.checkpointIteration == 3)
            // The deterministic policy on the deterministic plant from the same evaluation seeds: the same return.
            let again = try runCheckpointOnExternalPlant(plant: plant, directory: dir, episodes: 2, seed: 5, paced: false)
            #expect(again.returns.count == 2 && again.steps == 100)
            #expect(abs(again.mean - summary.evaluationMean) < 1e-4)
            #expect(plant.close()?.exitCode == 0)
        }
    }

    @Test("a plant that dies mid-episode: a clear error, and every transition before it is in the log; --resume continues")
    func deathKeepsDataset() throws {
        try withTemporaryDirectory { dir in
            // Episode 2 of the plant (the second collection episode: no evaluation episodes) dies at step 10.
            let failing = try ExternalPlant(address: tinyPlant("--fault exit@10 --fault-episode 2"))
            var failure: ExternalTrainingError? = nil
            do throws(ExternalTrainingError) {
                _ = try trainOnExternalPlant(plant: failing, options: trainingOptions(dir, steps: 150, evaluationEpisodes: 0),
                                             hyperparameters: quickHyperparameters(), observer: ExternalCurve())
            } catch {
                failure = error
            }
            guard case .plant(let e) = failure else { Issue.record("expected a plant error, got \(String(describing: failure))"); return }
            #expect(e.fault == .exited(waitingFor: "the answer to 'step' (step 10 of the episode)", exitCode: 3, signal: 0))
            #expect(e.stderrTail == "tiny_plant: the cart fell off the table")
            let rows = try loggedTransitions(dir, observations: 2, actions: 1)
            #expect(rows.count == 59, "50 of episode 0 and the 9 completed steps of episode 1")
            #expect(rows.filter { $0.episode == 1 }.count == 9)
            // Resume on a healthy plant: the 59 transitions are recovered and the run completes the budget.
            var options = trainingOptions(dir, steps: 150, evaluationEpisodes: 0)
            options.resume = true
            let plant = try ExternalPlant(address: tinyPlant())
            let summary = try trainOnExternalPlant(plant: plant, options: options, hyperparameters: quickHyperparameters(),
                                                   observer: ExternalCurve())
            #expect(summary.recoveredRecords == 59)
            #expect(summary.realSteps == 150)
            #expect(try loggedTransitions(dir, observations: 2, actions: 1).count == 150)
        }
    }

    @Test("done ends an episode early and its last transition is stored terminal")
    func terminalTransitions() throws {
        try withTemporaryDirectory { dir in
            let plant = try ExternalPlant(address: tinyPlant("--done-at 20"))
            let summary = try trainOnExternalPlant(plant: plant, options: trainingOptions(dir, steps: 60, evaluationEpisodes: 1),
                                                   hyperparameters: quickHyperparameters(), observer: ExternalCurve())
            #expect(summary.realSteps == 60 && summary.iterations == 3)
            let rows = try loggedTransitions(dir, observations: 2, actions: 1)
            #expect(rows.count == 60)
            #expect(rows.enumerated().filter { $0.element.terminal }.map(\.offset) == [19, 39, 59])
        }
    }

    @Test("a plant whose sizes have no compiled-in networks is refused, naming the supported sizes")
    func unsupportedShape() throws {
        let plant = try ExternalPlant(address: tinyPlant("--obs 5 --act 1"))
        var failure: ExternalTrainingError? = nil
        do throws(ExternalTrainingError) {
            _ = try trainOnExternalPlant(plant: plant, options: TrainingOptions(), hyperparameters: Hyperparameters(),
                                         observer: ExternalCurve())
        } catch {
            failure = error
        }
        guard case .plant(let e) = failure else { Issue.record("expected a plant error"); return }
        #expect(e.fault == .unsupportedShape(observations: 5, actions: 1, supported: "(3, 1), (2, 1), (4, 1), (8, 2)"))
        #expect(e.message.hasSuffix("has 5 observations and 1 actions; this build has networks for (observations, actions) = (3, 1), (2, 1), (4, 1), (8, 2) only"))
    }

    @Test("a checkpoint for other sizes is refused by eval on a plant")
    func checkpointShapeMismatch() throws {
        try withTemporaryDirectory { dir in
            let plant = try ExternalPlant(address: tinyPlant())
            _ = try trainOnExternalPlant(plant: plant, options: trainingOptions(dir, steps: 50, evaluationEpisodes: 0),
                                         hyperparameters: quickHyperparameters(), observer: ExternalCurve())
            let other = try ExternalPlant(address: tinyPlant("--obs 4"))
            var failure: ExternalTrainingError? = nil
            do throws(ExternalTrainingError) {
                _ = try runCheckpointOnExternalPlant(plant: other, directory: dir, episodes: 1, seed: 5, paced: false)
            } catch {
                failure = error
            }
            guard case .file(let e) = failure else { Issue.record("expected a file error"); return }
            #expect(e.message.contains("is for a plant with 2 observations and 1 actions, this plant has 4 and 1"))
        }
    }
}
