import CEdgeSys
import EdgeCore
import EdgeLearning

/// Why a run on an external plant could not start or go on: the plant, or the data directory.
public enum ExternalTrainingError: Error {
    case plant(ExternalPlantError)
    case file(FileError)

    public var message: String {
        switch self {
        case .plant(let e): return e.message
        case .file(let e): return e.message
        }
    }
}

/// The network shapes compiled in for external plants, as (observations, actions): Pendulum-v1 (3, 1),
/// MountainCarContinuous-v0 and the tiny plant (2, 1), (4, 1), LunarLander continuous (8, 2). Each one is
/// a full specialization of the learning stack, so the list stays short (compile time).
public let externalPlantShapes: [(observations: Int, actions: Int)] = [(3, 1), (2, 1), (4, 1), (8, 2)]

/// "(3, 1), (2, 1), (4, 1), (8, 2)".
public var externalPlantShapesText: String {
    var text = ""
    for (k, s) in externalPlantShapes.enumerated() { text += (k > 0 ? ", " : "") + "(\(s.observations), \(s.actions))" }
    return text
}

/// Something to do with a trainer for an external plant, whose sizes are known only at run time (from
/// its handshake): `withExternalTrainer` instantiates the specialization for the plant's shape.
public protocol ExternalTrainerVisitor {
    associatedtype Result
    func visit<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ trainer: ExternalTrainer<Obs, Act, ObsAct, Obs2>) throws(ExternalTrainingError) -> Result
}

/// Builds the trainer for `plant`'s sizes (one of `externalPlantShapes`) and hands it to `visitor`;
/// other sizes are an `unsupportedShape` error naming the supported ones.
public func withExternalTrainer<Visitor: ExternalTrainerVisitor>(
    plant: ExternalPlant, options: TrainingOptions, hyperparameters: Hyperparameters, _ visitor: Visitor
) throws(ExternalTrainingError) -> Visitor.Result {
    func make<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ shape: ExternalTrainer<Obs, Act, ObsAct, Obs2>.Type
    ) throws(ExternalTrainingError) -> Visitor.Result {
        try visitor.visit(try ExternalTrainer<Obs, Act, ObsAct, Obs2>(plant: plant, options: options,
                                                                       hyperparameters: hyperparameters))
    }
    switch (plant.description.observationSize, plant.description.actionSize) {
    case (3, 1): return try make(ExternalTrainer<3, 1, 4, 6>.self)
    case (2, 1): return try make(ExternalTrainer<2, 1, 3, 4>.self)
    case (4, 1): return try make(ExternalTrainer<4, 1, 5, 8>.self)
    case (8, 2): return try make(ExternalTrainer<8, 2, 10, 16>.self)
    case (let n, let m):
        throw .plant(ExternalPlantError(plant: plant.label, fault: .unsupportedShape(
            observations: n, actions: m, supported: externalPlantShapesText)))
    }
}

/// The outer loop on an external plant, lockstep: run a real episode on the plant with the current
/// policy (random actions first), append its transitions to the dataset (synced at the episode's end),
/// refit f_ψ and r_φ, improve π_θ with PPO in imagination, evaluate the deterministic policy on the
/// plant's own reward, checkpoint; repeat until the real-step budget is spent.
///
/// Differences from the simulated rigs' `Trainer`: observations and rewards come from the plant (the
/// reward of the transition s → s' is the plant's, r_φ learns it); an episode ends at the plant's
/// `done` or `truncated` or its declared length; a `done` (not truncated) transition is stored with
/// terminal = true. Imagination does not model termination (no learned termination model): rollouts
/// run their full horizon, which is right for tasks without terminal states (Pendulum-v1) and an
/// approximation where termination matters. Evaluation uses the same connection (every episode starts
/// with a seeded `reset`, so collection and evaluation episodes do not influence each other); its
/// episodes are plant steps too but are not counted in the real-step budget, as on the simulator.
/// Evaluation and collection are not paced to the plant's period (a simulator runs as fast as it can).
public final class ExternalTrainer<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int> {
    public typealias LearningAgent = Agent<Obs, Act, ObsAct, Obs2, RewardModel<Obs, Act, ObsAct>>

    public let options: TrainingOptions
    public let plant: ExternalPlant
    public let agent: LearningAgent
    var rng: RandomSource
    let obs: UnsafeMutablePointer<Float>
    let action: UnsafeMutablePointer<Float>
    var curve: [IterationStats] = []
    var log: RecordLog? = nil
    var dataDirectory: DataDirectory? = nil
    var rounds = 0
    var nextEpisode = 0
    public private(set) var recoveredRecords = 0
    public private(set) var droppedTailBytes = 0
    /// Episodes the plant ended with `done` (terminal transitions stored) during this run.
    public private(set) var terminalEpisodes = 0

    /// The dataset schema of this plant shape (rig code 4: external).
    public static var schema: UInt32 { TransitionRecord.externalSchema(observations: Obs, actions: Act) }

    public init(plant: ExternalPlant, options: TrainingOptions, hyperparameters: Hyperparameters) throws(ExternalTrainingError) {
        precondition(plant.description.observationSize == Obs && plant.description.actionSize == Act,
                     "trainer shapes differ from the plant's")
        self.plant = plant
        self.options = options
        rng = RandomSource(seed: options.seed)
        let reward = RewardModel<Obs, Act, ObsAct>(hyperparameters: hyperparameters.models, rng: &rng)
        agent = LearningAgent(observationBounds: plant.description.observationBounds, hyperparameters: hyperparameters,
                              capacity: max(options.maxRealSteps, 1), reward: reward, learnedReward: reward, rng: &rng)
        obs = allocateFloats(Obs)
        action = allocateFloats(Act)
        if let path = options.dataDirectory {
            do throws(FileError) { try openDataDirectory(DataDirectory(path: path)) } catch { throw .file(error) }
        }
    }

    deinit { obs.deallocate(); action.deallocate() }

    func openDataDirectory(_ directory: DataDirectory) throws(FileError) {
        try FileSystem.createDirectory(directory.path)
        let expected = TransitionRecord.size(observations: Obs, actions: Act)
        var malformed = 0, lastEpisode = -1
        let next = allocateFloats(Obs)
        defer { next.deallocate() }
        let buffer = agent.buffer
        let log = try RecordLog(path: directory.transitionsPath, schema: Self.schema) { payload in
            guard payload.count == expected else { malformed += 1; return }
            func f(_ i: Int) -> Float { Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            for d in 0..<Obs { obs[d] = f(d); next[d] = f(Obs + Act + 1 + d) }
            for d in 0..<Act { action[d] = f(Obs + d) }
            let tail = 4 * (2 * Obs + Act + 1)
            let episode = Int(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))
            lastEpisode = max(lastEpisode, episode)
            if buffer.count < buffer.capacity {
                buffer.append(obs: obs, action: action, reward: f(Obs + Act), nextObs: next,
                              terminal: payload[tail] != 0, episode: episode)
            }
        }
        guard malformed == 0 else {
            throw FileError(path: directory.transitionsPath, operation: "read", code: 0,
                            detail: "\(malformed) records have the wrong size for this plant")
        }
        recoveredRecords = log.recordCount
        droppedTailBytes = log.truncatedBytes
        if (log.recordCount > 0 || directory.hasCheckpoint) && !options.resume {
            throw FileError(path: directory.path, operation: "use", code: 0,
                            detail: "already holds a run (\(log.recordCount) transitions): continue it with --resume, or choose another --data directory")
        }
        if options.resume && directory.hasCheckpoint {
            let r = CheckpointReader(try Checkpoint.read(from: directory.checkpointPath), path: directory.checkpointPath)
            guard try r.integer("run.rig") == Int64(Self.schema) else {
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
            let elapsed = try r.doubles("curve.elapsed"), returns = try r.doubles("curve.episodeReturn")
            guard [means.count, stds.count, imagined.count, elapsed.count, returns.count].allSatisfy({ $0 == steps.count }) else {
                throw r.failure("has a learning curve with columns of different lengths")
            }
            curve = (0..<steps.count).map { i in
                var s = IterationStats()
                s.iteration = i + 1
                s.realSteps = Int(steps[i])
                s.evaluationMean = Float(means[i]); s.evaluationStd = Float(stds[i])
                s.improvement.imaginedReturn = Float(imagined[i])
                s.elapsedSeconds = elapsed[i]
                s.episodeReturn = Float(returns[i])
                return s
            }
        }
        nextEpisode = max(rounds, lastEpisode + 1)
        self.log = log
        dataDirectory = directory
    }

    func writeCheckpoint() throws(FileError) {
        guard let directory = dataDirectory else { return }
        var c = Checkpoint()
        c.put("run.rig", .integers([Int64(Self.schema)]))
        c.put("run.seed", .integers([Int64(bitPattern: options.seed)]))
        c.put("run.iteration", .integers([Int64(rounds)]))
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

    /// Seeds of episode starts (the simulator trainer's streams: collection and evaluation disjoint).
    public func episodeSeed(_ index: Int, evaluation: Bool) -> UInt64 {
        var r = RandomSource(seed: options.seed &* 0x9E37_79B9 &+ (evaluation ? 0xE7A1 : 0xC011) &+ UInt64(index) &* 7919)
        return r.next()
    }

    /// One real episode of at most `steps` steps into the buffer and the log (not synced here).
    /// Returns the steps taken and the plant's return.
    func collect(episode: Int, steps: Int, random: Bool) throws(ExternalPlantError) -> (steps: Int, total: Double) {
        try plant.reset(seed: episodeSeed(episode, evaluation: false))
        plant.observe(into: obs)
        var total: Double = 0, taken = 0
        while taken < steps {
            if random {
                for d in 0..<Act { action[d] = rng.nextUniform(-1, 1) }
            } else {
                agent.policy.act(obs, rng: &rng, into: action)
            }
            try plant.step(action)
            taken += 1
            total += Double(plant.reward)
            let terminal = plant.done
            agent.buffer.append(obs: obs, action: action, reward: plant.reward, nextObs: plant.observation,
                                terminal: terminal, episode: episode)
            log?.append(TransitionRecord.encode(obs: obs, action: action, reward: plant.reward, nextObs: plant.observation,
                                                terminal: terminal, episode: episode, observations: Obs, actions: Act))
            if terminal { terminalEpisodes += 1 }
            if plant.done || plant.truncated { break }
            plant.observe(into: obs)
        }
        return (taken, total)
    }

    /// Mean and standard deviation of the plant's return for the deterministic policy over `episodes`
    /// episodes from the evaluation seeds; each episode ends at `done`, `truncated` or the plant's length.
    public func evaluate(episodes: Int) throws(ExternalPlantError) -> (mean: Float, std: Float, returns: [Float]) {
        guard episodes > 0 else { return (0, 0, []) }
        var returns: [Float] = []
        var sum: Double = 0, sumSquares: Double = 0
        for k in 0..<episodes {
            try plant.reset(seed: episodeSeed(k, evaluation: true))
            var total: Double = 0
            for _ in 0..<plant.description.episodeSteps {
                agent.policy.mean(plant.observation, into: action)
                try plant.step(action)
                total += Double(plant.reward)
                if plant.done || plant.truncated { break }
            }
            returns.append(Float(total))
            sum += total
            sumSquares += total * total
        }
        let mean = sum / Double(episodes)
        let variance = max(sumSquares / Double(episodes) - mean * mean, 0)
        return (Float(mean), Float(variance.squareRoot()), returns)
    }

    /// The whole run (lockstep). On a plant failure, the transitions collected before it are synced
    /// first, so the dataset keeps them.
    public func run<Observer: TrainingObserver>(observer: Observer) throws(ExternalTrainingError) -> TrainingSummary {
        var summary = TrainingSummary()
        summary.seed = options.seed
        summary.evaluationEpisodes = options.evaluationEpisodes
        summary.recoveredRecords = recoveredRecords
        summary.droppedTailBytes = droppedTailBytes
        let start = edge_monotonic_ns()
        let elapsedBefore = curve.last?.elapsedSeconds ?? 0
        var realSteps = agent.buffer.count
        var episode = nextEpisode
        let episodeSteps = plant.description.episodeSteps
        while rounds < options.iterations && realSteps < options.maxRealSteps {
            var stats = IterationStats()
            let c0 = edge_monotonic_ns()
            let collected: (steps: Int, total: Double)
            do throws(ExternalPlantError) {
                collected = try collect(episode: episode, steps: min(episodeSteps, options.maxRealSteps - realSteps),
                                        random: episode < options.randomEpisodes)
            } catch {
                try? log?.sync()  // what was collected before the fault is kept
                throw .plant(error)
            }
            do throws(FileError) { try log?.sync() } catch { throw .file(error) }
            if let log { observer.transitionsSynced(log.syncedRecordCount) }
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            episode += 1
            realSteps += collected.steps
            stats.episodeReturn = Float(collected.total)
            stats.improvement = agent.improve(rng: &rng)
            let e0 = edge_monotonic_ns()
            do throws(ExternalPlantError) {
                let e = try evaluate(episodes: options.evaluationEpisodes)
                (stats.evaluationMean, stats.evaluationStd) = (e.mean, e.std)
            } catch {
                throw .plant(error)
            }
            stats.evaluationSeconds = Double(edge_monotonic_ns() - e0) * 1e-9
            rounds += 1
            stats.iteration = rounds
            stats.realSteps = realSteps
            stats.elapsedSeconds = elapsedBefore + Double(edge_monotonic_ns() - start) * 1e-9
            summary.fitSeconds += stats.improvement.fitSeconds
            summary.imaginationSeconds += stats.improvement.imaginationSeconds
            summary.ppoSeconds += stats.improvement.ppoSeconds
            summary.evaluationSeconds += stats.evaluationSeconds
            curve.append(stats)
            do throws(FileError) { try writeCheckpoint() } catch { throw .file(error) }
            observer.iterationFinished(stats, options: options)
        }
        summary.curve = curve
        summary.iterations = curve.count
        summary.realSteps = realSteps
        summary.evaluationMean = curve.last?.evaluationMean ?? 0
        summary.evaluationStd = curve.last?.evaluationStd ?? 0
        summary.wallSeconds = Double(edge_monotonic_ns() - start) * 1e-9
        return summary
    }
}

/// Trains on the external plant (already connected and past its handshake) and returns the summary.
public func trainOnExternalPlant<Observer: TrainingObserver>(
    plant: ExternalPlant, options: TrainingOptions, hyperparameters: Hyperparameters, observer: Observer
) throws(ExternalTrainingError) -> TrainingSummary {
    try withExternalTrainer(plant: plant, options: options, hyperparameters: hyperparameters,
                            ExternalTrainingRun(observer: observer))
}

struct ExternalTrainingRun<Observer: TrainingObserver>: ExternalTrainerVisitor {
    let observer: Observer
    func visit<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ trainer: ExternalTrainer<Obs, Act, ObsAct, Obs2>) throws(ExternalTrainingError) -> TrainingSummary {
        try trainer.run(observer: observer)
    }
}

/// What running a checkpoint's policy on an external plant did.
public struct ExternalPolicyRun {
    /// The plant's return of each episode (deterministic policy, evaluation seeds).
    public var returns: [Float] = []
    public var mean: Float = 0
    public var std: Float = 0
    /// Steps run and the round-trip time of each step (action out, observation in), host clock.
    public var steps = 0
    public var stepP50Ns: Int64 = 0
    public var stepP99Ns: Int64 = 0
    public var stepMaxNs: Int64 = 0
    /// Steps that ended later than their deadline (paced runs only).
    public var missedDeadlines = 0
    public init() {}
}

/// Runs the deterministic policy of the checkpoint in `directory` on the plant for `episodes` episodes
/// from the evaluation seeds of `seed` (those of the training run's evaluations). With `paced`, steps
/// go out on absolute deadlines at the plant's declared period (as a real-time loop drives a rig;
/// the period must be above 0), else back to back. The checkpoint must be for this plant's sizes.
public func runCheckpointOnExternalPlant(plant: ExternalPlant, directory: String, episodes: Int, seed: UInt64,
                                         paced: Bool) throws(ExternalTrainingError) -> ExternalPolicyRun {
    struct Deploy: ExternalTrainerVisitor {
        let path: String, episodes: Int, paced: Bool
        func visit<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
            _ trainer: ExternalTrainer<Obs, Act, ObsAct, Obs2>) throws(ExternalTrainingError) -> ExternalPolicyRun {
            do throws(FileError) {
                let r = CheckpointReader(try Checkpoint.read(from: path), path: path)
                let schema = try r.integer("run.rig")
                guard schema == Int64(ExternalTrainer<Obs, Act, ObsAct, Obs2>.schema) else {
                    if let shape = TransitionRecord.decodeExternal(schema: UInt32(truncatingIfNeeded: schema)) {
                        throw r.failure("is for a plant with \(shape.observations) observations and \(shape.actions) actions, this plant has \(Obs) and \(Act)")
                    }
                    throw r.failure("was written for a simulated rig, not an external plant")
                }
                try trainer.agent.restorePolicy(from: r)
            } catch {
                throw .file(error)
            }
            var result = ExternalPolicyRun()
            let plant = trainer.plant
            let periodNs = Int64(plant.description.periodSeconds * 1e9)
            var times: [Int64] = []
            times.reserveCapacity(episodes * plant.description.episodeSteps)
            let action = allocateFloats(Act)
            defer { action.deallocate() }
            var sum: Double = 0, sumSquares: Double = 0
            do throws(ExternalPlantError) {
                for k in 0..<episodes {
                    try plant.reset(seed: trainer.episodeSeed(k, evaluation: true))
                    var total: Double = 0
                    var deadline = edge_monotonic_ns()
                    for step in 0..<plant.description.episodeSteps {
                        if paced && periodNs > 0 {
                            // Step k goes out at reset + k·period; arriving after that is a missed deadline.
                            if step > 0 && edge_monotonic_ns() > deadline { result.missedDeadlines += 1 }
                            _ = edge_sleep_until_ns(deadline)
                            deadline += periodNs
                        }
                        let t0 = edge_monotonic_ns()
                        trainer.agent.policy.mean(plant.observation, into: action)
                        try plant.step(action)
                        times.append(edge_monotonic_ns() - t0)
                        total += Double(plant.reward)
                        if plant.done || plant.truncated { break }
                    }
                    result.returns.append(Float(total))
                    sum += total
                    sumSquares += total * total
                }
            } catch {
                throw .plant(error)
            }
            result.steps = times.count
            let n = Double(max(result.returns.count, 1))
            result.mean = Float(sum / n)
            result.std = Float(max(sumSquares / n - (sum / n) * (sum / n), 0).squareRoot())
            times.sort()
            if !times.isEmpty {
                result.stepP50Ns = times[times.count / 2]
                result.stepP99Ns = times[min(times.count - 1, times.count * 99 / 100)]
                result.stepMaxNs = times[times.count - 1]
            }
            return result
        }
    }
    var options = TrainingOptions()
    options.seed = seed
    return try withExternalTrainer(plant: plant, options: options, hyperparameters: Hyperparameters(),
                                   Deploy(path: DataDirectory(path: directory).checkpointPath, episodes: episodes,
                                          paced: paced))
}

extension DataDirectory {
    /// The directory an external-plant `train` run uses: `data` if given; else with `resume` the latest
    /// `external/run-NNN` under the default root; else a new one (exclusive mkdir, as for rigs).
    public static func forExternalTraining(data: String?, resume: Bool) throws(FileError) -> String {
        if let data {
            if resume && !FileSystem.exists(data) {
                throw FileError(path: data, operation: "resume", code: 0, detail: "nothing to resume: the directory does not exist")
            }
            return data
        }
        let parent = FileSystem.join(defaultRoot(), "external")
        if resume {
            guard let latest = latestExternalRun() else {
                throw FileError(path: parent, operation: "resume", code: 0, detail: "nothing to resume: no external-plant run here")
            }
            return latest
        }
        try FileSystem.createDirectory(parent)
        var n = 1
        while true {
            let path = externalRunPath(n)
            let rc = path.withCString { edge_dir_make($0) }
            if rc == 0 { return path }
            if rc != -17 { throw FileError(path: path, operation: "create directory", code: -rc) }  // 17: EEXIST
            n += 1
        }
    }

    /// The highest-numbered `external/run-NNN` under the default root, if any.
    public static func latestExternalRun() -> String? {
        var n = 1
        var latest: String? = nil
        while FileSystem.exists(externalRunPath(n)) { latest = externalRunPath(n); n += 1 }
        return latest
    }

    static func externalRunPath(_ number: Int) -> String {
        let digits = number < 10 ? "00\(number)" : number < 100 ? "0\(number)" : "\(number)"
        return FileSystem.join(FileSystem.join(defaultRoot(), "external"), "run-" + digits)
    }
}
