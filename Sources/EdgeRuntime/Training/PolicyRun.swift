import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// One bar of the control-step latency histogram: `count` steps took between `lowerNs` and `upperNs`.
public struct LatencyBucket: Equatable, Sendable {
    public var lowerNs: Int64
    public var upperNs: Int64
    public var count: UInt64
}

/// What deploying a checkpoint's policy on the simulated rig did: the task's return, the real-time
/// loop's timing, the allocations of its steps and the safety layer's record.
public struct PolicyRunReport {
    public var rig: RigKind
    /// Control steps run (episodes × the plant's episode length unless stopped early).
    public var steps: Int
    /// Episodes completed.
    public var episodes: Int
    /// True return of each completed episode (sum of the rig's true-state reward over its periods).
    public var episodeReturns: [Float]
    /// Deadline to end-of-step time of the control steps (host compute time charged to the plant).
    public var latencyP50Ns: Int64
    public var latencyP99Ns: Int64
    public var latencyP999Ns: Int64
    public var latencyMaxNs: Int64
    /// Deadline to wake-up time.
    public var jitterP50Ns: Int64
    public var jitterP99Ns: Int64
    public var missedDeadlines: Int
    /// Heap allocations inside the control steps, all steps together; nil when not measured.
    public var allocations: UInt64?
    public var safety: SafetyReport
    /// Non-empty buckets of the latency histogram, shortest first (for a picture).
    public var latencyBuckets: [LatencyBucket]
    /// Why the loop ended (`.signal` after Ctrl-C).
    public var exit: LoopExit

    /// Mean of `episodeReturns` (0 with no episode completed).
    public var returnMean: Float {
        episodeReturns.isEmpty ? 0 : episodeReturns.reduce(0, +) / Float(episodeReturns.count)
    }

    /// Allocations per control step; nil when not measured.
    public var allocationsPerStep: Double? {
        guard let allocations else { return nil }
        return steps > 0 ? Double(allocations) / Double(steps) : 0
    }
}

/// Runs the policy saved in `directory`'s checkpoint on the simulated `rig` through the real-time
/// runtime (no learning): a `ControlSession` on the rig's virtual clock at the plant's control rate,
/// deterministic actions, the safety layer with the rig's action bounds [-1, 1] and a slew limit.
/// Episodes run back to back from the evaluation starts of `seed` (those of `evaluateCheckpoint`):
/// after an episode's last step the outputs go safe, the rig is reset and the sensors re-homed.
///
/// Timing: the loop wakes at each deadline, senses, and its action drives the plant from that
/// deadline on; so each episode's first period runs with the safe action while the first observation
/// is taken, and its return (N rig periods) differs slightly from `evaluateCheckpoint`'s.
/// Latencies are the host's compute time of each step (charged to the plant's clock).
/// - Parameter stopsOnSignals: end the loop at a step boundary on SIGINT/SIGTERM (after
///   `StopSignal.installHandlers()`); off where other code shares the process's stop flag (tests).
public func runCheckpointPolicy(directory: String, rig: RigKind, episodes: Int, seed: UInt64,
                                stopsOnSignals: Bool) throws(TrainingError) -> PolicyRunReport {
    struct Deploy: SimTrainerVisitor {
        let path: String, episodes: Int, stopsOnSignals: Bool
        func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
            _ trainer: Trainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> PolicyRunReport {
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
    _ trainer: Trainer<Plant, Obs, Act, ObsAct, Obs2, Reward>,
    checkpoint path: String, episodes: Int, stopsOnSignals: Bool
) throws(TrainingError) -> PolicyRunReport {
    do throws(FileError) {
        try trainer.agent.restorePolicy(from: CheckpointReader(try Checkpoint.read(from: path), path: path))
    } catch {
        throw .file(error)
    }

    let plant: Plant
    do throws(LineError) {
        plant = try Plant(mode: .board)
        try plant.reset(seed: trainer.episodeSeed(0, evaluation: true))
    } catch {
        throw .line(error)
    }
    let periodNs = plant.controlPeriodNs
    let clock = RigClock(rig: plant.rig, chargesComputeTime: true)
    let loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: stopsOnSignals)
    // Slew limit: a full swing from -1 to 1 takes two control periods.
    let limits = SafetyLimits(actionCount: Act, low: -1, high: 1,
                              maxRatePerSecond: Float(1e9 / Double(periodNs)))
    let step = ControlStep(plant: plant.io, limits: limits, periodNs: periodNs)
    let makePolicy: () -> GaussianPolicy<Obs, Act> = {
        var rng = RandomSource(seed: trainer.options.seed)
        return GaussianPolicy<Obs, Act>(
            observationBounds: Plant.observationBounds, actionLow: [Float](repeating: -1, count: Act),
            actionHigh: [Float](repeating: 1, count: Act), initialLogStd: 0, hiddenGain: 1, outputScale: 1,
            maxLanes: 0, rng: &rng)
    }
    let mailbox = PolicyMailbox(initial: trainer.agent.policy, makeSlot: makePolicy)
    let session = ControlSession(loop: loop, step: step, mailbox: mailbox, makePolicy: makePolicy,
                                 explore: false, seed: trainer.options.seed)

    let episodeSteps = Plant.episodeSteps
    var returns: [Float] = []
    returns.reserveCapacity(episodes)
    var episodeReturn: Double = 0
    var resetError: LineError? = nil
    let exit: LoopExit
    do throws(LineError) {
        exit = try session.run(steps: episodes * episodeSteps, pollEveryNs: sensorPollPeriodNs) { record in
            episodeReturn += plant.rig.lastReward
            guard (record.timing.index + 1) % episodeSteps == 0 else { return true }
            returns.append(Float(episodeReturn))
            episodeReturn = 0
            guard returns.count < episodes else { return true }
            do throws(LineError) {
                try step.stopPlant()
                try plant.reset(seed: trainer.episodeSeed(returns.count, evaluation: true))
            } catch {
                resetError = error
                return false
            }
            clock.rigWasReset()
            return true
        }
    } catch {
        throw .line(error)
    }
    if let resetError { throw .line(resetError) }

    return PolicyRunReport(
        rig: Plant.kind, steps: loop.steps, episodes: returns.count, episodeReturns: returns,
        latencyP50Ns: loop.latency.percentile(0.5), latencyP99Ns: loop.latency.percentile(0.99),
        latencyP999Ns: loop.latency.percentile(0.999), latencyMaxNs: loop.latency.maxNs,
        jitterP50Ns: loop.jitter.percentile(0.5), jitterP99Ns: loop.jitter.percentile(0.99),
        missedDeadlines: loop.missedDeadlines, allocations: session.stepAllocations,
        safety: step.safety.report, latencyBuckets: loop.latency.nonEmptyBuckets, exit: exit)
}

extension LatencyHistogram {
    /// The buckets holding samples, with their edges clamped to the exact min and max.
    var nonEmptyBuckets: [LatencyBucket] {
        var result: [LatencyBucket] = []
        for index in 0..<Self.bucketCount where buckets[index] > 0 {
            let lower = index == 0 ? 0 : Self.upperEdge(index - 1) + 1
            result.append(LatencyBucket(lowerNs: max(lower, minNs), upperNs: min(Self.upperEdge(index), maxNs),
                                        count: buckets[index]))
        }
        return result
    }
}
