import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim
import Synchronization

/// How long and how a training run goes (the learning hyperparameters are separate).
public struct TrainingOptions {
    /// Seeds every random choice of the run: same seed, same run.
    public var seed: UInt64 = 1
    /// Outer iterations at most (collect an episode, refit, improve the policy, evaluate).
    public var iterations = 1_000
    /// Real (plant) steps at most; the last episode is cut short to stay within it.
    public var maxRealSteps = 2_000
    /// Episodes of uniformly random actions before the policy acts.
    public var randomEpisodes = 1
    /// Evaluation episodes after each iteration (deterministic policy, random starts, true reward).
    public var evaluationEpisodes = 10
    /// Where transitions and checkpoints are kept (nil: nothing is written).
    public var dataDirectory: String? = nil
    /// Continue the run in `dataDirectory` from its checkpoint and transition log.
    public var resume = false
    /// How collecting and learning share time (see `LearnerMode`).
    public var learner = LearnerMode.lockstep
    /// Asynchronous runs on the simulator: how many times faster than real time the rig runs
    /// (1: real time, as on a board; 0: as fast as the host can).
    public var simulationSpeed: Double = 1
    /// CPU to pin the asynchronous learner thread to (nil: any).
    public var learnerCPU: Int32? = nil
    /// Learn from the newest this many real transitions only (nil: all of them). The log keeps every
    /// transition; this bounds the learner's memory and refit time on a run of any length.
    public var datasetWindow: Int? = nil
    /// End the episode in progress at a step boundary on SIGINT/SIGTERM, keep what was collected and
    /// stop (needs `StopSignal.installHandlers()`); off where the process's stop flag is shared (tests).
    public var stopsOnSignals = false
    public init() {}

    /// Most real transitions the learner may hold (`datasetWindow`, else `maxRealSteps`): its buffers
    /// are allocated and filled at the start, 80-115 bytes a step (about 115 MB at this limit); far
    /// larger counts overflow or exhaust memory. Longer runs learn from a `datasetWindow`.
    public static let maximumStepsInMemory = 1_000_000
}

/// How real episodes and learning share time.
public enum LearnerMode: String, CaseIterable, Sendable {
    /// Collect an episode, then learn while the plant waits in its safe state, then the next episode:
    /// exactly repeatable on the simulator (steps take no virtual time). The simulator's default.
    case lockstep
    /// The learner runs on its own thread and hands each new policy to the control loop through the
    /// policy mailbox at a step boundary, while the loop keeps collecting: how a board trains. On the
    /// simulator the rig is paced to the wall clock (`simulationSpeed`) and runs are not repeatable.
    case asynchronous = "async"
}

/// Why a run could not start or go on: the plant's I/O (a rig's lines, an external plant), the data
/// directory, or the learner thread.
public enum TrainingError: Error {
    case line(LineError)
    case plant(ExternalPlantError)
    case file(FileError)
    case thread(ThreadError)
    /// A board's real rig cannot go on: it did not come to rest for homing before an episode
    /// (`BoardTrainingPlant`). One line with the fix.
    case rig(String)

    public var message: String {
        switch self {
        case .line(let e): return e.message
        case .plant(let e): return e.message
        case .file(let e): return e.message
        case .thread(let e): return e.message
        case .rig(let text): return text
        }
    }
}

/// One point of the learning curve.
public struct IterationStats {
    public var iteration = 0
    public var realSteps = 0
    /// Return of the episode just collected, from the rig's true state.
    public var episodeReturn: Float = 0
    public var improvement = ImprovementReport()
    public var evaluationMean: Float = 0
    public var evaluationStd: Float = 0
    public var evaluationSeconds: Double = 0
    public var elapsedSeconds: Double = 0
    public init() {}
}

/// The end of a run.
public struct TrainingSummary {
    public var rig: RigKind = .pendulum
    public var seed: UInt64 = 0
    public var iterations = 0
    public var realSteps = 0
    public var evaluationMean: Float = 0
    public var evaluationStd: Float = 0
    public var evaluationEpisodes = 0
    public var wallSeconds: Double = 0
    public var fitSeconds: Double = 0
    public var imaginationSeconds: Double = 0
    public var ppoSeconds: Double = 0
    public var evaluationSeconds: Double = 0
    public var collectionSeconds: Double = 0
    public var curve: [IterationStats] = []
    /// Transitions found in the data directory's log at start (a resumed run), and torn-tail bytes dropped.
    public var recoveredRecords = 0
    public var droppedTailBytes = 0
    public var learner = LearnerMode.lockstep
    /// The control loop that collected the real episodes: timing, allocations in its steps, safety.
    public var control = ControlLoopReport()
    /// Transitions left out of the dataset because a sensor fault made their observations untrustworthy.
    public var droppedTransitions = 0
    /// Transitions logged but not learned from because the learner was a whole hand-off ring behind.
    public var unlearnedTransitions = 0
    /// Policies the learner published and the control loop took.
    public var policiesPublished = 0
    public var policiesTaken = 0
    /// The stop signal that ended the run early (what was collected before it is synced), if any.
    public var stoppedBySignal: Int32? = nil
    public init() {}
}

/// Receives progress (the host CLI draws a live line; the board binary prints plain lines).
public protocol TrainingObserver: AnyObject {
    func iterationFinished(_ stats: IterationStats, options: TrainingOptions)
    /// `count` transitions are now on disk (fsync'd): a crash from here on loses none of them.
    func transitionsSynced(_ count: Int)
}

extension TrainingObserver {
    public func transitionsSynced(_ count: Int) {}
}

/// The outer loop on any `TrainingPlant`: collect a real episode with the current policy (random actions
/// first), append it to the dataset, refit f_ψ and r_φ, improve π_θ with PPO in imagination, evaluate,
/// checkpoint; repeat until the real-step budget is spent. Lockstep, or with the learner on its own
/// thread (`options.learner`).
public final class Trainer<Source: TrainingPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int,
                           Reward: RewardFunction> where Source.Policy == GaussianPolicy<Obs, Act> {
    public typealias LearningAgent = Agent<Obs, Act, ObsAct, Obs2, Reward>

    public let options: TrainingOptions
    public let agent: LearningAgent
    /// The plant the real episodes are collected on and the policy is evaluated on.
    public let source: Source
    /// Transitions from the control loop to the agent's buffer (and the log).
    let handoff: TransitionHandoff<Obs, Act>
    var rng: RandomSource
    let obs: UnsafeMutablePointer<Float>
    let next: UnsafeMutablePointer<Float>
    let action: UnsafeMutablePointer<Float>
    /// The learning curve so far (restored from the checkpoint on resume).
    var curve: [IterationStats] = []
    /// One learning round's policy improvement: refit the models, improve the policy. PPO in
    /// imagination (`Agent.improve`) unless another optimizer is chosen (`useOptimizer`).
    var improvement: ((inout RandomSource) -> ImprovementReport)? = nil
    var droppedTransitions = 0

    /// - Parameter reward: the reward imagination uses: a `RewardModel` (learned, the default) or
    ///   `KnownReward<Plant>()`.
    public init(source: Source, options: TrainingOptions, hyperparameters: Hyperparameters,
                makeReward: (inout RandomSource) -> (Reward, RewardModel<Obs, Act, ObsAct>?)) throws(TrainingError) {
        precondition(options.learner == .lockstep || source.supportsAsynchronousLearning,
                     "this plant cannot collect while the learner evaluates: train it in lockstep")
        self.source = source
        self.options = options
        rng = RandomSource(seed: options.seed)
        let (reward, learned) = makeReward(&rng)
        agent = LearningAgent(observationBounds: source.observationBounds, hyperparameters: hyperparameters,
                              capacity: max(options.maxRealSteps, 1), window: options.datasetWindow,
                              reward: reward, learnedReward: learned,
                              rng: &rng)
        // The learner may lag a whole window (or run) behind the loop before rows are left out for it.
        let lag = min(options.datasetWindow ?? options.maxRealSteps, options.maxRealSteps)
        handoff = TransitionHandoff(episodeCapacity: source.episodeSteps, capacity: max(lag, source.episodeSteps))
        obs = allocateFloats(Obs)
        next = allocateFloats(Obs)
        action = allocateFloats(Act)
        if let path = options.dataDirectory {
            do throws(FileError) { try openDataDirectory(DataDirectory(path: path)) } catch { throw .file(error) }
        }
    }

    deinit { obs.deallocate(); next.deallocate(); action.deallocate() }

    /// The transition log (nil without a data directory).
    var log: RecordLog? = nil
    var dataDirectory: DataDirectory? = nil
    /// Learning rounds done (restored from a checkpoint) and the index of the next real episode.
    var rounds = 0
    var nextEpisode = 0
    /// Records recovered and bytes of torn tail dropped when the log was opened.
    public private(set) var recoveredRecords = 0
    public private(set) var droppedTailBytes = 0

    func openDataDirectory(_ directory: DataDirectory) throws(FileError) {
        try FileSystem.createDirectory(directory.path)
        let schema = source.schema
        var malformed = 0
        var lastEpisode = -1
        let log = try RecordLog(path: directory.transitionsPath, schema: schema) { payload in
            guard let episode = appendLoggedTransition(payload) else { malformed += 1; return }
            lastEpisode = max(lastEpisode, episode)
        }
        guard malformed == 0 else {
            throw FileError(path: directory.transitionsPath, operation: "read", code: 0,
                            detail: "\(malformed) records have the wrong size for this rig")
        }
        recoveredRecords = log.recordCount
        droppedTailBytes = log.truncatedBytes
        let hasData = log.recordCount > 0 || directory.hasCheckpoint
        if hasData && !options.resume {
            throw FileError(path: directory.path, operation: "use", code: 0,
                            detail: "already holds a run (\(log.recordCount) transitions): continue it with --resume, or choose another --data directory")
        }
        if options.resume && directory.hasCheckpoint {
            let reader = CheckpointReader(try Checkpoint.read(from: directory.checkpointPath), path: directory.checkpointPath)
            try restoreRun(from: reader)
        }
        // Episodes synced after the last checkpoint are in the buffer already; the next one gets a new index.
        nextEpisode = max(rounds, lastEpisode + 1)
        self.log = log
        dataDirectory = directory
    }

    /// Appends one transition-log record to the agent's buffer (while it has room); returns the record's
    /// episode index, or nil when the payload has the wrong size for this rig. Shared by
    /// `openDataDirectory` and the read-only loading of `analyze gradients --data`.
    func appendLoggedTransition(_ payload: UnsafeRawBufferPointer) -> Int? {
        guard payload.count == TransitionRecord.size(observations: Obs, actions: Act) else { return nil }
        func f(_ i: Int) -> Float { Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        let o = 0, a = Obs, r = Obs + Act, n = Obs + Act + 1
        for d in 0..<Obs { obs[d] = f(o + d); next[d] = f(n + d) }
        for d in 0..<Act { action[d] = f(a + d) }
        let tail = 4 * (2 * Obs + Act + 1)
        let episode = Int(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))
        let buffer = agent.buffer
        if buffer.window != nil || buffer.count < buffer.capacity {
            buffer.append(obs: obs, action: action, reward: f(r), nextObs: next, terminal: payload[tail] != 0,
                          episode: episode)
        }
        return episode
    }

    func restoreRun(from r: CheckpointReader) throws(FileError) {
        guard try r.integer("run.rig") == Int64(source.schema) else {
            throw r.failure("was written for another rig or plant shape")
        }
        try agent.restore(from: r)
        guard let state = RandomSource(state: try r.integers("run.rng").map { UInt64(bitPattern: $0) }) else {
            throw r.failure("has a malformed random generator state")
        }
        rng = state
        rounds = Int(try r.integer("run.iteration"))
        let steps = try r.integers("curve.realSteps"), means = try r.doubles("curve.evalMean")
        let stds = try r.doubles("curve.evalStd"), imagined = try r.doubles("curve.imaginedReturn")
        let elapsed = try r.doubles("curve.elapsed"), episodeReturns = try r.doubles("curve.episodeReturn")
        guard [means.count, stds.count, imagined.count, elapsed.count, episodeReturns.count].allSatisfy({ $0 == steps.count }) else {
            throw r.failure("has a learning curve with columns of different lengths")
        }
        curve = (0..<steps.count).map { i in
            var s = IterationStats()
            s.iteration = i + 1
            s.realSteps = Int(steps[i])
            s.evaluationMean = Float(means[i]); s.evaluationStd = Float(stds[i])
            s.improvement.imaginedReturn = Float(imagined[i])
            s.elapsedSeconds = elapsed[i]
            s.episodeReturn = Float(episodeReturns[i])
            return s
        }
    }

    /// Writes the checkpoint atomically: the agent, the generator, the iteration and the curve.
    func writeCheckpoint(iteration: Int) throws(FileError) {
        guard let directory = dataDirectory else { return }
        var c = Checkpoint()
        c.put("run.rig", .integers([Int64(source.schema)]))
        c.put("run.seed", .integers([Int64(bitPattern: options.seed)]))
        c.put("run.iteration", .integers([Int64(iteration)]))
        c.put("run.rng", .integers(rng.state.map { Int64(bitPattern: $0) }))
        agent.save(into: &c)
        c.put("curve.realSteps", .integers(curve.map { Int64($0.realSteps) }))
        c.put("curve.evalMean", .doubles(curve.map { Double($0.evaluationMean) }))
        c.put("curve.evalStd", .doubles(curve.map { Double($0.evaluationStd) }))
        c.put("curve.imaginedReturn", .doubles(curve.map { Double($0.improvement.imaginedReturn) }))
        c.put("curve.elapsed", .doubles(curve.map { $0.elapsedSeconds }))
        c.put("curve.episodeReturn", .doubles(curve.map { Double($0.episodeReturn) }))
        try c.write(to: directory.checkpointPath)
    }

    /// Seeds of episode starts: collection and evaluation draw from disjoint streams.
    func episodeSeed(_ index: Int, evaluation: Bool) -> UInt64 {
        var r = RandomSource(seed: options.seed &* 0x9E37_79B9 &+ (evaluation ? 0xE7A1 : 0xC011) &+ UInt64(index) &* 7919)
        return r.next()
    }

    /// Runs one real episode of up to `steps` steps through the control loop with the policy in the
    /// mailbox (uniform random actions when `random`), writes its transitions to the log and syncs it,
    /// then publishes them to the handoff. A transition is left out when a sensor fault was latched at
    /// either of its steps (its observations cannot be trusted). What was collected before a line
    /// error is still synced before the error is thrown.
    func collectEpisode(_ episode: Int, steps: Int, random: Bool) throws(TrainingError) -> EpisodeOutcome {
        let outcome: EpisodeOutcome
        do {
            outcome = try source.runEpisode(startSeed: episodeSeed(episode, evaluation: false),
                                            actionSeed: episodeSeed(episode, evaluation: false) &+ 1,
                                            steps: steps, random: random) { obs, action, reward, next, terminal, interventions in
                if interventions.contains(.sensorFault) {
                    droppedTransitions += 1
                } else {
                    handoff.append(obs: obs, action: action, reward: reward, nextObs: next, terminal: terminal,
                                   episode: episode)
                }
                return true
            }
        } catch {
            try? persistCollected()  // what was collected before the fault is kept
            throw error
        }
        do throws(FileError) { try persistCollected() } catch { throw .file(error) }
        return outcome
    }

    /// Appends the handoff's unpublished rows to the log, syncs it and publishes the rows.
    func persistCollected() throws(FileError) {
        if let log {
            handoff.forEachUnpublished { obs, action, reward, next, terminal, episode in
                log.append(TransitionRecord.encode(obs: obs, action: action, reward: reward, nextObs: next,
                                                   terminal: terminal, episode: episode, observations: Obs, actions: Act))
            }
            try log.sync()
        }
        handoff.publish()
    }

    /// Collects one episode (lockstep) into the agent's buffer; returns what the episode did.
    func collect(episode: Int, steps: Int, random: Bool) throws(TrainingError) -> EpisodeOutcome {
        let outcome = try collectEpisode(episode, steps: steps, random: random)
        handoff.drain(into: agent.buffer)
        return outcome
    }

    /// Mean and standard deviation of the return of the deterministic policy over `episodes` episodes
    /// from the evaluation starts (the plant's own scoring: a rig's true state, an external plant's reward).
    public func evaluate(episodes: Int) throws(TrainingError) -> (mean: Float, std: Float) {
        try source.evaluate(agent.policy, episodes: episodes) { episodeSeed($0, evaluation: true) }
    }

    /// The whole run: lockstep or with the learner on its own thread (`options.learner`).
    public func run<Observer: TrainingObserver>(observer: Observer) throws(TrainingError) -> TrainingSummary {
        var summary = TrainingSummary()
        summary.rig = source.rig ?? summary.rig
        summary.seed = options.seed
        summary.learner = options.learner
        summary.evaluationEpisodes = options.evaluationEpisodes
        summary.recoveredRecords = recoveredRecords
        summary.droppedTailBytes = droppedTailBytes
        let start = edge_monotonic_ns()
        let elapsedBefore = curve.last?.elapsedSeconds ?? 0
        source.publish(agent.policy)  // the fresh or restored policy acts first
        var realSteps = agent.buffer.appended
        switch options.learner {
        case .lockstep:
            try runLockstep(&summary, realSteps: &realSteps, start: start, elapsedBefore: elapsedBefore,
                            observer: observer)
        case .asynchronous:
            try runAsynchronous(&summary, realSteps: &realSteps, start: start, elapsedBefore: elapsedBefore,
                                observer: observer)
        }
        summary.curve = curve
        summary.iterations = curve.count
        summary.realSteps = realSteps
        summary.evaluationMean = curve.last?.evaluationMean ?? 0
        summary.evaluationStd = curve.last?.evaluationStd ?? 0
        summary.wallSeconds = Double(edge_monotonic_ns() - start) * 1e-9
        summary.control = source.controlReport
        summary.droppedTransitions = droppedTransitions
        summary.unlearnedTransitions = handoff.overrun
        summary.policiesTaken = source.policiesTaken
        return summary
    }

    /// Collect an episode, learn, evaluate, checkpoint; repeat.
    func runLockstep<Observer: TrainingObserver>(
        _ summary: inout TrainingSummary, realSteps: inout Int, start: Int64, elapsedBefore: Double, observer: Observer
    ) throws(TrainingError) {
        var episode = nextEpisode
        while rounds < options.iterations && realSteps < options.maxRealSteps {
            let steps = min(source.episodeSteps, options.maxRealSteps - realSteps)
            let c0 = edge_monotonic_ns()
            let outcome = try collect(episode: episode, steps: steps, random: episode < options.randomEpisodes)
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            if let log { observer.transitionsSynced(log.syncedRecordCount) }
            episode += 1
            realSteps += outcome.steps
            if case .signal(let signal) = outcome.exit {
                summary.stoppedBySignal = signal
                return
            }
            let stats = try learningRound(realSteps: realSteps, episodeReturn: Float(outcome.trueReturn),
                                          elapsedSeconds: { elapsedBefore + Double(edge_monotonic_ns() - start) * 1e-9 },
                                          summary: &summary)
            source.publish(agent.policy)
            summary.policiesPublished += 1
            observer.iterationFinished(stats, options: options)
        }
    }

    /// Refit, improve the policy, evaluate it, append to the curve, checkpoint.
    func learningRound(realSteps: Int, episodeReturn: Float, elapsedSeconds: () -> Double,
                       summary: inout TrainingSummary) throws(TrainingError) -> IterationStats {
        var stats = IterationStats()
        stats.episodeReturn = episodeReturn
        stats.improvement = improvement.map { $0(&rng) } ?? agent.improve(rng: &rng)
        let e0 = edge_monotonic_ns()
        (stats.evaluationMean, stats.evaluationStd) = try evaluate(episodes: options.evaluationEpisodes)
        stats.evaluationSeconds = Double(edge_monotonic_ns() - e0) * 1e-9
        rounds += 1
        stats.iteration = rounds
        stats.realSteps = realSteps
        stats.elapsedSeconds = elapsedSeconds()
        summary.fitSeconds += stats.improvement.fitSeconds
        summary.imaginationSeconds += stats.improvement.imaginationSeconds
        summary.ppoSeconds += stats.improvement.ppoSeconds
        summary.evaluationSeconds += stats.evaluationSeconds
        curve.append(stats)
        do throws(FileError) { try writeCheckpoint(iteration: rounds) } catch { throw .file(error) }
        return stats
    }

    /// The control loop collects episodes on this thread while a learner thread drains the handoff,
    /// learns, evaluates, checkpoints and publishes each new policy to the mailbox, which the loop
    /// takes at its next step boundary. Neither waits for the other; the loop stops at the real-step
    /// budget (or when the learner has done `iterations` rounds), then the learner finishes a last
    /// round on whatever it has not learned from yet.
    func runAsynchronous<Observer: TrainingObserver>(
        _ summary: inout TrainingSummary, realSteps: inout Int, start: Int64, elapsedBefore: Double, observer: Observer
    ) throws(TrainingError) {
        let shared = AsynchronousRun()
        var learnerSummary = TrainingSummary()
        let thread: LearnerThread
        do throws(ThreadError) {
            thread = try LearnerThread.start(cpu: options.learnerCPU) { [self] in
                while rounds < options.iterations {
                    if handoff.pending == 0 {
                        if shared.collectionEnded.load(ordering: .acquiring) && handoff.pending == 0 { break }
                        edge_sleep_until_ns(edge_monotonic_ns() + 1_000_000)
                        continue
                    }
                    handoff.drain(into: agent.buffer)
                    let returnBits = shared.lastEpisodeReturn.load(ordering: .relaxed)
                    do throws(TrainingError) {
                        let stats = try learningRound(
                            realSteps: agent.buffer.appended, episodeReturn: Float(bitPattern: returnBits),
                            elapsedSeconds: { elapsedBefore + Double(edge_monotonic_ns() - start) * 1e-9 },
                            summary: &learnerSummary)
                        source.publish(agent.policy)
                        learnerSummary.policiesPublished += 1
                        observer.transitionsSynced(shared.syncedRecords.load(ordering: .relaxed))
                        observer.iterationFinished(stats, options: options)
                    } catch {
                        shared.failure = error
                        break
                    }
                }
                shared.learnerDone.store(true, ordering: .releasing)
            }
        } catch {
            throw .thread(error)
        }
        var collectionFailure: TrainingError? = nil
        var episode = nextEpisode
        while realSteps < options.maxRealSteps && !shared.learnerDone.load(ordering: .acquiring) {
            let steps = min(source.episodeSteps, options.maxRealSteps - realSteps)
            let c0 = edge_monotonic_ns()
            let outcome: EpisodeOutcome
            do throws(TrainingError) {
                outcome = try collectEpisode(episode, steps: steps, random: episode < options.randomEpisodes)
            } catch {
                collectionFailure = error
                break
            }
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            shared.syncedRecords.store(log?.syncedRecordCount ?? 0, ordering: .relaxed)
            shared.lastEpisodeReturn.store(Float(outcome.trueReturn).bitPattern, ordering: .relaxed)
            episode += 1
            realSteps += outcome.steps
            if case .signal(let signal) = outcome.exit {
                summary.stoppedBySignal = signal
                break
            }
        }
        shared.collectionEnded.store(true, ordering: .releasing)
        do throws(ThreadError) { try thread.join() } catch { throw .thread(error) }
        summary.fitSeconds += learnerSummary.fitSeconds
        summary.imaginationSeconds += learnerSummary.imaginationSeconds
        summary.ppoSeconds += learnerSummary.ppoSeconds
        summary.evaluationSeconds += learnerSummary.evaluationSeconds
        summary.policiesPublished = learnerSummary.policiesPublished
        if let failure = shared.failure { throw failure }
        if let collectionFailure { throw collectionFailure }
    }
}

/// What the control thread and the learner thread of an asynchronous run share besides the handoff
/// and the mailbox. `failure` is written by the learner before it ends and read after the join.
final class AsynchronousRun: @unchecked Sendable {
    let collectionEnded = Atomic<Bool>(false)
    let learnerDone = Atomic<Bool>(false)
    let syncedRecords = Atomic<Int>(0)
    let lastEpisodeReturn = Atomic<UInt32>(0)
    var failure: TrainingError? = nil
}

extension TrainingSummary {
    /// The real-time side in two lines (the same on the host and the board): the control loop's timing
    /// and allocations, the policy hand-offs and dropped transitions; then the safety layer's record.
    public var controlText: String {
        "control loop (\(learner.rawValue)): \(control.summary); policies published \(policiesPublished), "
            + "taken \(policiesTaken); transitions dropped for sensor faults \(droppedTransitions)"
            + (unlearnedTransitions > 0 ? ", logged but not learned from \(unlearnedTransitions) (the learner lagged)" : "")
            + "\n"
            + control.safety.summary
    }
}
