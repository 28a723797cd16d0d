import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

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
    public init() {}
}

/// Why a run could not start or go on: the plant's I/O, or the data directory.
public enum TrainingError: Error {
    case line(LineError)
    case file(FileError)

    public var message: String {
        switch self {
        case .line(let e): return e.message
        case .file(let e): return e.message
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

/// The outer loop on a simulated plant: collect a real episode with the current policy (random actions
/// first) through the sensors, append it to the dataset, refit f_ψ and r_φ, improve π_θ with PPO in
/// imagination, evaluate on the rig's true state; repeat until the real-step budget is spent.
public final class Trainer<Plant: SimPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int,
                           Reward: RewardFunction> {
    public typealias LearningAgent = Agent<Obs, Act, ObsAct, Obs2, Reward>

    public let options: TrainingOptions
    public let agent: LearningAgent
    let plant: Plant
    let evaluationPlant: Plant
    var rng: RandomSource
    let obs: UnsafeMutablePointer<Float>
    let next: UnsafeMutablePointer<Float>
    let action: UnsafeMutablePointer<Float>

    /// - Parameter reward: the reward imagination uses: a `RewardModel` (learned, the default) or
    ///   `KnownReward<Plant>()`.
    public init(options: TrainingOptions, hyperparameters: Hyperparameters,
                makeReward: (inout RandomSource) -> (Reward, RewardModel<Obs, Act, ObsAct>?)) throws(TrainingError) {
        precondition(Plant.observationSize == Obs && Plant.actionSize == Act, "agent shapes differ from the plant's")
        self.options = options
        rng = RandomSource(seed: options.seed)
        let (reward, learned) = makeReward(&rng)
        agent = LearningAgent(observationBounds: Plant.observationBounds, hyperparameters: hyperparameters,
                              capacity: max(options.maxRealSteps, 1), reward: reward, learnedReward: learned,
                              rng: &rng)
        do throws(LineError) {
            plant = try Plant(mode: .board)
            evaluationPlant = try Plant(mode: .board)
        } catch {
            throw .line(error)
        }
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
    /// Iterations and learning curve restored from a checkpoint.
    var startIteration = 0
    var restoredCurve: [IterationStats] = []
    /// Records recovered and bytes of torn tail dropped when the log was opened.
    public private(set) var recoveredRecords = 0
    public private(set) var droppedTailBytes = 0

    func openDataDirectory(_ directory: DataDirectory) throws(FileError) {
        try FileSystem.createDirectory(directory.path)
        let schema = TransitionRecord.schema(rig: Plant.kind, observations: Obs, actions: Act)
        let expected = TransitionRecord.size(observations: Obs, actions: Act)
        var malformed = 0
        var lastEpisode = -1
        let buffer = agent.buffer
        let log = try RecordLog(path: directory.transitionsPath, schema: schema) { payload in
            guard payload.count == expected else { malformed += 1; return }
            func f(_ i: Int) -> Float { Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            let o = 0, a = Obs, r = Obs + Act, n = Obs + Act + 1
            for d in 0..<Obs { obs[d] = f(o + d); next[d] = f(n + d) }
            for d in 0..<Act { action[d] = f(a + d) }
            let tail = 4 * (2 * Obs + Act + 1)
            let episode = Int(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))
            lastEpisode = max(lastEpisode, episode)
            if buffer.count < buffer.capacity {
                buffer.append(obs: obs, action: action, reward: f(r), nextObs: next,
                              terminal: payload[tail] != 0, episode: episode)
            }
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
        startIteration = max(startIteration, lastEpisode + 1)
        self.log = log
        dataDirectory = directory
    }

    func restoreRun(from r: CheckpointReader) throws(FileError) {
        guard try r.integer("run.rig") == Int64(TransitionRecord.schema(rig: Plant.kind, observations: Obs, actions: Act)) else {
            throw r.failure("was written for another rig")
        }
        try agent.restore(from: r)
        guard let state = RandomSource(state: try r.integers("run.rng").map { UInt64(bitPattern: $0) }) else {
            throw r.failure("has a malformed random generator state")
        }
        rng = state
        startIteration = Int(try r.integer("run.iteration"))
        let steps = try r.integers("curve.realSteps"), means = try r.doubles("curve.evalMean")
        let stds = try r.doubles("curve.evalStd"), imagined = try r.doubles("curve.imaginedReturn")
        let elapsed = try r.doubles("curve.elapsed"), episodeReturns = try r.doubles("curve.episodeReturn")
        guard [means.count, stds.count, imagined.count, elapsed.count, episodeReturns.count].allSatisfy({ $0 == steps.count }) else {
            throw r.failure("has a learning curve with columns of different lengths")
        }
        restoredCurve = (0..<steps.count).map { i in
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
    func writeCheckpoint(iteration: Int, curve: [IterationStats]) throws(FileError) {
        guard let directory = dataDirectory else { return }
        var c = Checkpoint()
        c.put("run.rig", .integers([Int64(TransitionRecord.schema(rig: Plant.kind, observations: Obs, actions: Act))]))
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

    /// Runs one real episode of `steps` steps; returns its true return.
    func collect(episode: Int, steps: Int, random: Bool) throws(LineError) -> Float {
        try plant.reset(seed: episodeSeed(episode, evaluation: false))
        plant.observe(into: obs)
        var total: Float = 0
        for _ in 0..<steps {
            if random {
                for d in 0..<Act { action[d] = rng.nextUniform(-1, 1) }
            } else {
                agent.policy.act(obs, rng: &rng, into: action)
            }
            total += try plant.step(action)
            plant.observe(into: next)
            let reward = Plant.reward(observation: obs, action: action)
            agent.buffer.append(obs: obs, action: action, reward: reward, nextObs: next, terminal: false,
                                episode: episode)
            log?.append(TransitionRecord.encode(obs: obs, action: action, reward: reward, nextObs: next,
                                                terminal: false, episode: episode, observations: Obs, actions: Act))
            obs.update(from: next, count: Obs)
        }
        return total
    }

    /// Mean and standard deviation of the true return of the deterministic policy over `episodes`
    /// episodes from fixed random starts.
    public func evaluate(episodes: Int) throws(LineError) -> (mean: Float, std: Float) {
        guard episodes > 0 else { return (0, 0) }
        var sum: Double = 0, sumSquares: Double = 0
        for k in 0..<episodes {
            try evaluationPlant.reset(seed: episodeSeed(k, evaluation: true))
            var total: Double = 0
            for _ in 0..<Plant.episodeSteps {
                evaluationPlant.observe(into: obs)
                agent.policy.mean(obs, into: action)
                total += Double(try evaluationPlant.step(action))
            }
            sum += total
            sumSquares += total * total
        }
        let mean = sum / Double(episodes)
        let variance = max(sumSquares / Double(episodes) - mean * mean, 0)
        return (Float(mean), Float(variance.squareRoot()))
    }

    /// The whole run.
    public func run<Observer: TrainingObserver>(observer: Observer) throws(TrainingError) -> TrainingSummary {
        var summary = TrainingSummary()
        summary.rig = Plant.kind
        summary.seed = options.seed
        summary.evaluationEpisodes = options.evaluationEpisodes
        summary.curve = restoredCurve
        let start = edge_monotonic_ns()
        let elapsedBefore = restoredCurve.last?.elapsedSeconds ?? 0
        var realSteps = agent.buffer.count, iteration = startIteration
        while iteration < options.iterations && realSteps < options.maxRealSteps {
            var stats = IterationStats()
            let steps = min(Plant.episodeSteps, options.maxRealSteps - realSteps)
            let c0 = edge_monotonic_ns()
            do throws(LineError) {
                stats.episodeReturn = try collect(episode: iteration, steps: steps, random: iteration < options.randomEpisodes)
            } catch {
                try? log?.sync()  // what was collected before the fault is kept
                throw .line(error)
            }
            do throws(FileError) { try log?.sync() } catch { throw .file(error) }
            if let log { observer.transitionsSynced(log.syncedRecordCount) }
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            realSteps += steps
            stats.improvement = agent.improve(rng: &rng)
            let e0 = edge_monotonic_ns()
            do throws(LineError) {
                (stats.evaluationMean, stats.evaluationStd) = try evaluate(episodes: options.evaluationEpisodes)
            } catch {
                throw .line(error)
            }
            stats.evaluationSeconds = Double(edge_monotonic_ns() - e0) * 1e-9
            iteration += 1
            stats.iteration = iteration
            stats.realSteps = realSteps
            stats.elapsedSeconds = elapsedBefore + Double(edge_monotonic_ns() - start) * 1e-9
            summary.fitSeconds += stats.improvement.fitSeconds
            summary.imaginationSeconds += stats.improvement.imaginationSeconds
            summary.ppoSeconds += stats.improvement.ppoSeconds
            summary.evaluationSeconds += stats.evaluationSeconds
            summary.curve.append(stats)
            do throws(FileError) { try writeCheckpoint(iteration: iteration, curve: summary.curve) } catch { throw .file(error) }
            observer.iterationFinished(stats, options: options)
        }
        summary.iterations = iteration
        summary.realSteps = realSteps
        summary.evaluationMean = summary.curve.last?.evaluationMean ?? 0
        summary.evaluationStd = summary.curve.last?.evaluationStd ?? 0
        summary.wallSeconds = Double(edge_monotonic_ns() - start) * 1e-9
        summary.recoveredRecords = recoveredRecords
        summary.droppedTailBytes = droppedTailBytes
        return summary
    }
}
