import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// What deploying a checkpoint's policy on the simulated rig did: the task's return and the real-time
/// side's record (timing, allocations in the steps, safety).
public struct PolicyRunReport {
    public var rig: RigKind
    /// Control steps run (episodes × the plant's episode length unless stopped early).
    public var steps: Int
    /// Episodes completed.
    public var episodes: Int
    /// True return of each completed episode (sum of the rig's true-state reward over its periods).
    public var episodeReturns: [Float]
    /// Latencies are the host's compute time of each step (charged to the plant's clock).
    public var control: ControlLoopReport
    /// Why the loop ended (`.signal` after Ctrl-C).
    public var exit: LoopExit

    /// Mean of `episodeReturns` (0 with no episode completed).
    public var returnMean: Float {
        episodeReturns.isEmpty ? 0 : episodeReturns.reduce(0, +) / Float(episodeReturns.count)
    }
}

/// Runs the policy saved in `directory`'s checkpoint on the simulated `rig` through the real-time
/// runtime (no learning): a `ControlSession` on the rig's virtual clock at the plant's control rate,
/// deterministic actions, the safety layer with the rig's action bounds [-1, 1] and a slew limit.
/// Episodes run back to back from the evaluation starts of `seed` (those of `evaluateCheckpoint`):
/// after an episode's last step the outputs go safe, the rig is reset and the sensors re-homed.
///
/// Timing (see `RigControl`): step k senses at the k-th deadline from the reset and its action drives
/// the plant from there plus the host's compute time, which is charged to the plant's clock; so the
/// return differs slightly from `evaluateCheckpoint`'s, whose actions take effect at once.
/// - Parameter stopsOnSignals: end the loop at a step boundary on SIGINT/SIGTERM (after
///   `StopSignal.installHandlers()`); off where other code shares the process's stop flag (tests).
public func runCheckpointPolicy(directory: String, rig: RigKind, episodes: Int, seed: UInt64,
                                stopsOnSignals: Bool) throws(TrainingError) -> PolicyRunReport {
    struct Deploy: SimTrainerVisitor {
        let path: String, episodes: Int, stopsOnSignals: Bool
        func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
            _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> PolicyRunReport {
            try runPolicy(trainer, checkpoint: path, episodes: episodes, stopsOnSignals: stopsOnSignals)
        }
    }
    var options = TrainingOptions()
    options.seed = seed
    return try withSimTrainer(rig: rig, knownReward: true, options: options, hyperparameters: Hyperparameters(),
                              Deploy(path: DataDirectory(path: directory).checkpointPath, episodes: episodes,
                                     stopsOnSignals: stopsOnSignals))
}

func runPolicy<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
    _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>,
    checkpoint path: String, episodes: Int, stopsOnSignals: Bool
) throws(TrainingError) -> PolicyRunReport {
    do throws(FileError) {
        try trainer.agent.restorePolicy(from: CheckpointReader(try Checkpoint.read(from: path), path: path))
    } catch {
        throw .file(error)
    }
    var returns: [Float] = []
    returns.reserveCapacity(min(episodes, 4_096))  // the count is the user's: --episodes 10^18 must not allocate
    var exit = LoopExit.completed
    let control: RigControl<Plant, Obs, Act>
    do throws(LineError) {
        control = try RigControl(policy: trainer.agent.policy, explore: false,
                                 timing: RigTiming(chargesComputeTime: true), stopsOnSignals: stopsOnSignals,
                                 seed: trainer.options.seed)
        for k in 0..<episodes {
            let seed = trainer.episodeSeed(k, evaluation: true)
            let outcome = try control.runEpisode(startSeed: seed, actionSeed: seed, steps: Plant.episodeSteps,
                                                 random: false) { _, _, _, _ in true }
            exit = outcome.exit
            guard exit == .completed else { break }
            returns.append(Float(outcome.trueReturn))
        }
    } catch {
        throw .line(error)
    }
    let report = control.report
    return PolicyRunReport(rig: Plant.kind, steps: report.steps, episodes: returns.count, episodeReturns: returns,
                           control: report, exit: exit)
}
