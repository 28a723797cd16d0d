import EdgeCore
import EdgeIO
import EdgeLearning

/// Something to do with a trainer for whichever simulated plant the user picked. The rig is chosen at
/// run time but every network shape is a type parameter, so commands are written once as a visitor and
/// `withSimTrainer` instantiates the right specialization.
public protocol SimTrainerVisitor {
    associatedtype Result
    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> Result
}

/// The trainer of a simulated rig: the one `Trainer`, on a `SimulatedRig`.
public typealias SimTrainer<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int,
                            Reward: RewardFunction> = Trainer<SimulatedRig<Plant, Obs, Act>, Obs, Act, ObsAct, Obs2, Reward>

/// Builds the trainer for the simulated `rig` (agent shapes spelled out once here: Swift's integer
/// generics cannot compute Obs + Act) and hands it to `visitor`.
/// - Parameter knownReward: imagine with the rig's known task reward instead of the learned r_φ.
public func withSimTrainer<Visitor: SimTrainerVisitor>(
    rig: RigKind, knownReward: Bool, options: TrainingOptions, hyperparameters: Hyperparameters,
    _ visitor: Visitor
) throws(TrainingError) -> Visitor.Result {
    func make<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ plant: Plant.Type, _ shapes: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, KnownReward<Plant>>.Type
    ) throws(TrainingError) -> Visitor.Result {
        let models = hyperparameters.models
        let timing = options.learner == .lockstep ? RigTiming.lockstep
            : RigTiming(chargesComputeTime: true, speed: options.simulationSpeed)
        let source: SimulatedRig<Plant, Obs, Act>
        do throws(LineError) {
            source = try SimulatedRig(timing: timing, stopsOnSignals: options.stopsOnSignals, seed: options.seed)
        } catch {
            throw .line(error)
        }
        if knownReward {
            let trainer = try SimTrainer<Plant, Obs, Act, ObsAct, Obs2, KnownReward<Plant>>(
                source: source, options: options, hyperparameters: hyperparameters) { _ in (KnownReward<Plant>(), nil) }
            return try visitor.visit(trainer)
        }
        let trainer = try SimTrainer<Plant, Obs, Act, ObsAct, Obs2, RewardModel<Obs, Act, ObsAct>>(
            source: source, options: options, hyperparameters: hyperparameters) { rng in
            let model = RewardModel<Obs, Act, ObsAct>(hyperparameters: models, rng: &rng)
            return (model, model)
        }
        return try visitor.visit(trainer)
    }
    switch rig {
    case .pendulum: return try make(PendulumPlant.self, SimTrainer<PendulumPlant, 3, 1, 4, 6, KnownReward<PendulumPlant>>.self)
    case .motor: return try make(MotorPlant.self, SimTrainer<MotorPlant, 2, 1, 3, 4, KnownReward<MotorPlant>>.self)
    case .cartpole: return try make(CartPolePlant.self, SimTrainer<CartPolePlant, 5, 1, 6, 10, KnownReward<CartPolePlant>>.self)
    }
}

/// Trains on the simulated `rig` and returns the summary. Shared by the host CLI and the board binary.
public func trainOnSimulator<Observer: TrainingObserver>(
    rig: RigKind, knownReward: Bool, options: TrainingOptions, hyperparameters: Hyperparameters,
    observer: Observer
) throws(TrainingError) -> TrainingSummary {
    try withSimTrainer(rig: rig, knownReward: knownReward, options: options,
                       hyperparameters: hyperparameters, TrainingRun(observer: observer))
}

struct TrainingRun<Observer: TrainingObserver>: SimTrainerVisitor {
    let observer: Observer
    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> TrainingSummary {
        try trainer.run(observer: observer)
    }
}

/// Evaluates the policy saved in `directory`'s checkpoint on the simulated rig: mean and standard
/// deviation of the true return over `episodes` episodes from the evaluation starts of `seed`.
public func evaluateCheckpoint(directory: String, rig: RigKind, episodes: Int, seed: UInt64)
    throws(TrainingError) -> (mean: Float, std: Float) {
    struct Evaluate: SimTrainerVisitor {
        let path: String
        let episodes: Int
        func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
            _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> (mean: Float, std: Float) {
            do throws(FileError) {
                let reader = CheckpointReader(try Checkpoint.read(from: path), path: path)
                try trainer.agent.restorePolicy(from: reader)
            } catch {
                throw .file(error)
            }
            return try trainer.evaluate(episodes: episodes)
        }
    }
    var options = TrainingOptions()
    options.seed = seed
    return try withSimTrainer(rig: rig, knownReward: true, options: options, hyperparameters: Hyperparameters(),
                              Evaluate(path: DataDirectory(path: directory).checkpointPath, episodes: episodes))
}
