import EdgeCore
import EdgeIO
import EdgeLearning

/// The agent shapes of each simulated plant (Swift's integer generics cannot compute Obs + Act, so
/// each plant's four sizes are spelled out once, here).
public typealias PendulumTrainer<Reward: RewardFunction> = Trainer<PendulumPlant, 3, 1, 4, 6, Reward>
public typealias MotorTrainer<Reward: RewardFunction> = Trainer<MotorPlant, 2, 1, 3, 4, Reward>
public typealias CartPoleTrainer<Reward: RewardFunction> = Trainer<CartPolePlant, 5, 1, 6, 10, Reward>

/// Trains on the simulated `rig` and returns the summary. Shared by the host CLI and the board binary.
/// - Parameter knownReward: imagine with the rig's known task reward instead of the learned r_φ.
public func trainOnSimulator<Observer: TrainingObserver>(
    rig: RigKind, knownReward: Bool, options: TrainingOptions, hyperparameters: Hyperparameters,
    observer: Observer
) throws(TrainingError) -> TrainingSummary {
    func run<Plant: SimPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ plant: Plant.Type, _ shapes: Trainer<Plant, Obs, Act, ObsAct, Obs2, KnownReward<Plant>>.Type
    ) throws(TrainingError) -> TrainingSummary {
        let models = hyperparameters.models
        if knownReward {
            let trainer = try Trainer<Plant, Obs, Act, ObsAct, Obs2, KnownReward<Plant>>(
                options: options, hyperparameters: hyperparameters) { _ in (KnownReward<Plant>(), nil) }
            return try trainer.run(observer: observer)
        }
        let trainer = try Trainer<Plant, Obs, Act, ObsAct, Obs2, RewardModel<Obs, Act, ObsAct>>(
            options: options, hyperparameters: hyperparameters) { rng in
            let model = RewardModel<Obs, Act, ObsAct>(hyperparameters: models, rng: &rng)
            return (model, model)
        }
        return try trainer.run(observer: observer)
    }
    switch rig {
    case .pendulum: return try run(PendulumPlant.self, PendulumTrainer<KnownReward<PendulumPlant>>.self)
    case .motor: return try run(MotorPlant.self, MotorTrainer<KnownReward<MotorPlant>>.self)
    case .cartpole: return try run(CartPolePlant.self, CartPoleTrainer<KnownReward<CartPolePlant>>.self)
    }
}
