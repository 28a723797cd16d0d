import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning

/// How the policy is improved between real episodes (`edge-ctl compare`, issue 8).
public enum PolicyOptimizer: String, CaseIterable {
    /// PPO on imagined rollouts through the learned models: the training default (`Agent.improve`).
    case ppo
    /// The pathwise gradient of the imagined return through the learned models
    /// (`PathwisePolicyOptimizer`), with PPO's imagined-step budget: `ppoIterationsPerEpisode` × k steps
    /// of `rollouts` / k × `horizon` imagined steps after each real episode (`GradientBudget`).
    case pathwise
    /// PPO on the real episodes only (no model): one PPO update on each episode as it is collected.
    case modelFree = "model-free"
    /// Dreamer-style: the pathwise gradient over a short horizon (H = 15) bootstrapped with a learned
    /// value function (`HybridPolicyOptimizer`), with PPO's imagined-step budget per iteration split as
    /// `GradientBudget` says (4 steps of 67 rollouts × 15 for the default 160 × 25).
    case hybrid
}

/// How the pathwise and hybrid optimizers spend PPO's imagined-step budget.
public struct GradientBudget {
    /// Gradient steps per PPO iteration's imagined-step budget (rollouts × horizon): each step rolls out
    /// 1/k of the rollouts. PPO takes epochs × minibatches (5 × 4 = 20) Adam steps per iteration; with
    /// k = 1 the pathwise optimizers took 20 times fewer and the comparison measured that, not the
    /// gradient (pendulum, seed 1: pathwise −1,236 with k = 1, −220 to −335 with k = 4).
    public var stepsPerIteration = 4
    /// The hybrid's differentiated horizon before the value bootstrap.
    public var hybridHorizon = 15
    public init() {}
}

/// Trains on the simulated `rig` with `optimizer` improving the policy. PPO, pathwise and hybrid run
/// `Trainer.run` (the same collection, data directory, checkpoints and evaluation; only the policy
/// improvement of each round differs); model-free PPO has its own loop (its updates need the
/// log-probabilities of its own sampled actions), in memory, without a data directory.
public func trainOnSimulator<Observer: TrainingObserver>(
    rig: RigKind, optimizer: PolicyOptimizer, options: TrainingOptions, hyperparameters: Hyperparameters,
    budget: GradientBudget = GradientBudget(), observer: Observer
) throws(TrainingError) -> TrainingSummary {
    switch optimizer {
    case .ppo:
        return try trainOnSimulator(rig: rig, knownReward: false, options: options, hyperparameters: hyperparameters,
                                    observer: observer)
    case .pathwise, .hybrid:
        return try withSimTrainer(rig: rig, knownReward: false, options: options, hyperparameters: hyperparameters,
                                  GradientOptimizerRun(optimizer: optimizer, budget: budget, observer: observer))
    case .modelFree:
        return try withSimTrainer(rig: rig, knownReward: false, options: options, hyperparameters: hyperparameters,
                                  ModelFreeTrainingRun(observer: observer))
    }
}

/// `Trainer.run` with the pathwise or hybrid optimizer improving the policy.
struct GradientOptimizerRun<Observer: TrainingObserver>: SimTrainerVisitor {
    let optimizer: PolicyOptimizer, budget: GradientBudget, observer: Observer
    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>) throws(TrainingError) -> TrainingSummary {
        trainer.useOptimizer(optimizer, budget: budget)
        return try trainer.run(observer: observer)
    }
}

extension Trainer {
    /// Makes each learning round improve the policy with `optimizer` (pathwise or hybrid, through a
    /// snapshot of the learned models) in place of PPO in imagination. Needs the learned reward model.
    func useOptimizer(_ optimizer: PolicyOptimizer, budget: GradientBudget) {
        guard optimizer == .pathwise || optimizer == .hybrid else { return }
        guard let rewardModel = agent.rewardModel else { preconditionFailure("trains with the learned reward model") }
        let agent = self.agent, h = agent.hyperparameters, bounds = source.observationBounds
        let low = [Float](repeating: -1, count: Act), high = [Float](repeating: 1, count: Act)  // as Agent builds it
        let steps = h.ppoIterationsPerEpisode * budget.stepsPerIteration
        if optimizer == .pathwise {  // k steps of rollouts / k rollouts × horizon per PPO iteration
            var split = h
            split.rollouts = max((h.rollouts + budget.stepsPerIteration - 1) / budget.stepsPerIteration, 1)
            let world = LearnedModelSnapshot<Obs, Act, ObsAct, Obs2>(dynamics: agent.dynamics, reward: rewardModel,
                                                                     buffer: agent.buffer, maxLanes: paddedToLanes(split.rollouts))
            let pathwise = PathwisePolicyOptimizer<LearnedModelSnapshot<Obs, Act, ObsAct, Obs2>, Obs, Act>(
                world: world, observationBounds: bounds, actionLow: low, actionHigh: high, hyperparameters: split)
            improvement = { rng in
                agent.improve(refreshing: pathwise.gradient.world, rewardModel: rewardModel, rng: &rng) { rng in
                    pathwise.improve(policy: agent.policy, starts: StartStateSampler(buffer: agent.buffer), steps: steps,
                                     rng: &rng).meanReturn
                }
            }
        } else {
            let settings = HybridSettings(matching: h, horizon: budget.hybridHorizon,
                                          stepsPerIteration: budget.stepsPerIteration)
            let world = LearnedModelSnapshot<Obs, Act, ObsAct, Obs2>(dynamics: agent.dynamics, reward: rewardModel,
                                                                     buffer: agent.buffer, maxLanes: paddedToLanes(settings.rollouts))
            let hybrid = HybridPolicyOptimizer<LearnedModelSnapshot<Obs, Act, ObsAct, Obs2>, Obs, Act>(
                world: world, observationBounds: bounds, actionLow: low, actionHigh: high, hyperparameters: h,
                settings: settings, rng: &rng)
            improvement = { rng in
                agent.improve(refreshing: hybrid.gradient.world, rewardModel: rewardModel, rng: &rng) { rng in
                    hybrid.improve(policy: agent.policy, starts: StartStateSampler(buffer: agent.buffer), steps: steps,
                                   rng: &rng).meanBootstrappedReturn
                }
            }
        }
    }
}

/// Model-free PPO on the real episodes: the outer loop of `Trainer.run` with one PPO update on each
/// episode as it is collected (no model, no data directory).
struct ModelFreeTrainingRun<Observer: TrainingObserver>: SimTrainerVisitor {
    let observer: Observer

    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>
    ) throws(TrainingError) -> TrainingSummary {
        let agent = trainer.agent, options = trainer.options
        // Its own PPO sized for one real episode per update; the agent's policy mirrors it for evaluation.
        var episodeBatch = agent.hyperparameters
        episodeBatch.rollouts = 1
        episodeBatch.horizon = Plant.episodeSteps
        let low = [Float](repeating: -1, count: Act), high = [Float](repeating: 1, count: Act)  // as Agent builds it
        let ppo = PPO<Obs, Act>(observationBounds: Plant.observationBounds, actionLow: low, actionHigh: high,
                                hyperparameters: episodeBatch, rng: &trainer.rng)
        agent.policy.copyParameters(from: ppo.policy)
        var summary = TrainingSummary()
        summary.rig = Plant.kind
        summary.seed = options.seed
        summary.evaluationEpisodes = options.evaluationEpisodes
        let start = edge_monotonic_ns()
        var realSteps = 0, iteration = 0
        while iteration < options.iterations && realSteps < options.maxRealSteps {
            var stats = IterationStats()
            let steps = min(Plant.episodeSteps, options.maxRealSteps - realSteps)
            let c0 = edge_monotonic_ns()
            let rollouts = ImaginedRollouts<Obs, Act>(count: 1, horizon: steps)
            do throws(LineError) {
                stats.episodeReturn = try collectForPPO(trainer, ppo: ppo, episode: iteration, into: rollouts)
            } catch {
                throw .line(error)
            }
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            let p0 = edge_monotonic_ns()
            stats.improvement.ppo = ppo.update(rollouts, rng: &trainer.rng)
            agent.policy.copyParameters(from: ppo.policy)
            stats.improvement.ppoSeconds = Double(edge_monotonic_ns() - p0) * 1e-9
            realSteps += steps
            let e0 = edge_monotonic_ns()
            (stats.evaluationMean, stats.evaluationStd) = try trainer.evaluate(episodes: options.evaluationEpisodes)
            stats.evaluationSeconds = Double(edge_monotonic_ns() - e0) * 1e-9
            iteration += 1
            stats.iteration = iteration
            stats.realSteps = realSteps
            stats.elapsedSeconds = Double(edge_monotonic_ns() - start) * 1e-9
            summary.ppoSeconds += stats.improvement.ppoSeconds
            summary.evaluationSeconds += stats.evaluationSeconds
            summary.curve.append(stats)
            observer.iterationFinished(stats, options: options)
        }
        summary.iterations = iteration
        summary.realSteps = realSteps
        summary.evaluationMean = summary.curve.last?.evaluationMean ?? 0
        summary.evaluationStd = summary.curve.last?.evaluationStd ?? 0
        summary.wallSeconds = Double(edge_monotonic_ns() - start) * 1e-9
        return summary
    }

    /// One real episode of the stochastic policy recorded as a PPO batch of one rollout (lane 0):
    /// observations, unclipped normalized actions, their log-probabilities, scaled rewards from the
    /// sensor observation, values and the bootstrap value of the last state (episodes end by the time
    /// limit). Returns the true return.
    func collectForPPO<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int,
                       Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>, ppo: PPO<Obs, Act>, episode: Int,
        into r: ImaginedRollouts<Obs, Act>
    ) throws(LineError) -> Float {
        let policy = ppo.policy, value = ppo.value
        let lanes = r.lanes, scale = trainer.agent.hyperparameters.rewardScale
        let input = allocateFloats(Obs * lanes), u = allocateFloats(Act * lanes), a = allocateFloats(Act * lanes)
        let logProb = allocateFloats(lanes), obs = allocateFloats(Obs), plantAction = allocateFloats(Act)
        defer { for p in [input, u, a, logProb, obs, plantAction] { p.deallocate() } }
        try trainer.source.plant.reset(seed: trainer.episodeSeed(episode, evaluation: false))
        trainer.source.plant.observe(into: obs)
        var total: Float = 0
        for t in 0...r.horizon {
            for d in 0..<Obs { r.observations[(t * Obs + d) * lanes] = obs[d] }
            policy.scaleObservations(r.observations + t * Obs * lanes, into: input, lanes: lanes)
            r.values[t * lanes] = value.predict(input: input, lanes: lanes)[0]
            guard t < r.horizon else { break }
            policy.sample(input: input, count: 1, lanes: lanes, rng: &trainer.rng, actions: u, logProb: logProb)
            policy.plantActions(u, into: a, lanes: lanes)
            for d in 0..<Act {
                r.actions[(t * Act + d) * lanes] = u[d * lanes]
                plantAction[d] = a[d * lanes]
            }
            r.logProbs[t * lanes] = logProb[0]
            r.rewards[t * lanes] = scale * Plant.reward(observation: obs, action: plantAction)
            r.valid[t * lanes] = 1
            total += try trainer.source.plant.step(plantAction)
            trainer.source.plant.observe(into: obs)
        }
        return total
    }
}

extension Agent {
    /// `improve` with a gradient optimizer in place of PPO: refit the models, refresh the optimizer's
    /// snapshot of them (`world`), then `optimize` the policy; it returns the mean imagined return it saw.
    func improve(refreshing world: LearnedModelSnapshot<Obs, Act, ObsAct, Obs2>, rewardModel: RewardModel<Obs, Act, ObsAct>,
                 rng: inout RandomSource, optimize: (inout RandomSource) -> Double) -> ImprovementReport {
        var report = ImprovementReport()
        let t0 = edge_monotonic_ns()
        report.dynamicsFit = dynamics.fit(buffer: buffer, rng: &rng)
        report.rewardFit = rewardModel.fit(buffer: buffer, rng: &rng)
        world.refresh(dynamics: dynamics, reward: rewardModel, buffer: buffer)
        let t1 = edge_monotonic_ns()
        report.imaginedReturn = Float(optimize(&rng))
        report.fitSeconds = Double(t1 - t0) * 1e-9
        report.imaginationSeconds = Double(edge_monotonic_ns() - t1) * 1e-9
        return report
    }
}
