import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning

/// Errors of runs on an external plant: `TrainingError.plant`, `.file`.
public typealias ExternalTrainingError = TrainingError

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

/// The trainer of an external plant: the one `Trainer`, on an `ExternalPlantSource`, with a learned reward.
public typealias ExternalTrainer<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int> =
    Trainer<ExternalPlantSource<Obs, Act>, Obs, Act, ObsAct, Obs2, RewardModel<Obs, Act, ObsAct>>

/// Builds the trainer for `plant`'s sizes (one of `externalPlantShapes`) and hands it to `visitor`;
/// other sizes are an `unsupportedShape` error naming the supported ones.
public func withExternalTrainer<Visitor: ExternalTrainerVisitor>(
    plant: ExternalPlant, options: TrainingOptions, hyperparameters: Hyperparameters, _ visitor: Visitor
) throws(ExternalTrainingError) -> Visitor.Result {
    func make<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ shape: ExternalTrainer<Obs, Act, ObsAct, Obs2>.Type
    ) throws(ExternalTrainingError) -> Visitor.Result {
        precondition(options.learner == .lockstep, "an external plant trains in lockstep")
        let trainer = try ExternalTrainer<Obs, Act, ObsAct, Obs2>(
            source: ExternalPlantSource<Obs, Act>(plant: plant), options: options, hyperparameters: hyperparameters
        ) { rng in
            let model = RewardModel<Obs, Act, ObsAct>(hyperparameters: hyperparameters.models, rng: &rng)
            return (model, model)
        }
        return try visitor.visit(trainer)
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

/// An external plant as a training plant. Observations and rewards come from the plant (the reward of
/// the transition s → s' is the plant's, r_φ learns it); an episode ends at the plant's `done` or
/// `truncated` or its declared length; a `done` (not truncated) transition is stored with terminal =
/// true. Imagination does not model termination (no learned termination model): rollouts run their
/// full horizon, which is right for tasks without terminal states (Pendulum-v1) and an approximation
/// where termination matters. Evaluation uses the same connection (every episode starts with a seeded
/// `reset`, so collection and evaluation episodes do not influence each other), so the plant trains in
/// lockstep. Steps are not paced to the plant's period (a simulator runs as fast as it can).
public final class ExternalPlantSource<let Obs: Int, let Act: Int>: TrainingPlant {
    public let plant: ExternalPlant
    /// The policy that acts in the episodes (a copy of the learner's, taken by `publish`).
    let policy: GaussianPolicy<Obs, Act>
    let obs: UnsafeMutablePointer<Float>
    let action: UnsafeMutablePointer<Float>
    var steps = 0
    var published = 0
    /// Episodes the plant ended with `done` (terminal transitions stored).
    public private(set) var terminalEpisodes = 0

    public init(plant: ExternalPlant) {
        precondition(plant.description.observationSize == Obs && plant.description.actionSize == Act,
                     "trainer shapes differ from the plant's")
        self.plant = plant
        var rng = RandomSource(seed: 0)
        policy = GaussianPolicy(observationBounds: plant.description.observationBounds,
                                actionLow: [Float](repeating: -1, count: Act), actionHigh: [Float](repeating: 1, count: Act),
                                initialLogStd: 0, hiddenGain: 1, outputScale: 1, maxLanes: 0, rng: &rng)
        obs = allocateFloats(Obs)
        action = allocateFloats(Act)
    }

    deinit {
        obs.deallocate()
        action.deallocate()
    }

    /// The dataset schema of this plant shape (rig code 4: external).
    public static var schema: UInt32 { TransitionRecord.externalSchema(observations: Obs, actions: Act) }
    public var schema: UInt32 { Self.schema }
    public var rig: RigKind? { nil }
    public var observationBounds: [Float] { plant.description.observationBounds }
    public var episodeSteps: Int { plant.description.episodeSteps }
    public var supportsAsynchronousLearning: Bool { false }
    public var policiesTaken: Int { published }
    public var controlReport: ControlLoopReport {
        var report = ControlLoopReport()
        report.steps = steps
        return report
    }

    public func publish(_ policy: GaussianPolicy<Obs, Act>) {
        self.policy.copyParameters(from: policy)
        published += 1
    }

    public func runEpisode(
        startSeed: UInt64, actionSeed: UInt64, steps limit: Int, random: Bool,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ reward: Float,
                     _ next: UnsafePointer<Float>, _ terminal: Bool, _ interventions: SafetyInterventions) -> Bool
    ) throws(TrainingError) -> EpisodeOutcome {
        var rng = RandomSource(seed: actionSeed)
        var outcome = EpisodeOutcome()
        do throws(ExternalPlantError) {
            try plant.reset(seed: startSeed)
            obs.update(from: plant.observation, count: Obs)
            while outcome.steps < limit {
                if random {
                    for d in 0..<Act { action[d] = rng.nextUniform(-1, 1) }
                } else {
                    policy.act(obs, rng: &rng, into: action)
                }
                try plant.step(action)
                outcome.steps += 1
                steps += 1
                outcome.trueReturn += Double(plant.reward)
                if plant.done { terminalEpisodes += 1 }
                let goOn = transition(obs, action, plant.reward, plant.observation, plant.done, [])
                if !goOn || plant.done || plant.truncated { break }
                obs.update(from: plant.observation, count: Obs)
            }
        } catch {
            throw .plant(error)
        }
        return outcome
    }

    /// The plant's return of the deterministic policy; each episode ends at `done`, `truncated` or the
    /// plant's length.
    public func evaluate(_ policy: GaussianPolicy<Obs, Act>, episodes: Int,
                         seed: (Int) -> UInt64) throws(TrainingError) -> (mean: Float, std: Float) {
        var returns = ReturnStatistics()
        do throws(ExternalPlantError) {
            for k in 0..<episodes { returns.add(try deterministicEpisode(policy, seed: seed(k))) }
        } catch {
            throw .plant(error)
        }
        return returns.meanAndStd
    }

    /// One episode of `policy`'s deterministic actions from the start state of `seed`; returns its
    /// return. `beforeStep` runs before each step (pacing), `stepTook` gets each step's round trip.
    func deterministicEpisode(_ policy: GaussianPolicy<Obs, Act>, seed: UInt64, beforeStep: (Int) -> Void = { _ in },
                              stepTook: (Int64) -> Void = { _ in }) throws(ExternalPlantError) -> Double {
        try plant.reset(seed: seed)
        var total: Double = 0
        for step in 0..<plant.description.episodeSteps {
            beforeStep(step)
            let t0 = edge_monotonic_ns()
            policy.mean(plant.observation, into: action)
            try plant.step(action)
            stepTook(edge_monotonic_ns() - t0)
            total += Double(plant.reward)
            if plant.done || plant.truncated { break }
        }
        return total
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
                guard schema == Int64(ExternalPlantSource<Obs, Act>.schema) else {
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
            let source = trainer.source
            let periodNs = Int64(source.plant.description.periodSeconds * 1e9)
            var times: [Int64] = []
            times.reserveCapacity(episodes * source.episodeSteps)
            var returns = ReturnStatistics()
            do throws(ExternalPlantError) {
                for k in 0..<episodes {
                    var deadline = edge_monotonic_ns()
                    let total = try source.deterministicEpisode(
                        trainer.agent.policy, seed: trainer.episodeSeed(k, evaluation: true),
                        beforeStep: { step in
                            guard paced && periodNs > 0 else { return }
                            // Step k goes out at reset + k·period; arriving after that is a missed deadline.
                            if step > 0 && edge_monotonic_ns() > deadline { result.missedDeadlines += 1 }
                            _ = edge_sleep_until_ns(deadline)
                            deadline += periodNs
                        },
                        stepTook: { times.append($0) })
                    result.returns.append(Float(total))
                    returns.add(total)
                }
            } catch {
                throw .plant(error)
            }
            result.steps = times.count
            (result.mean, result.std) = returns.meanAndStd
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
