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
    public init() {}
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
    public init() {}
}

/// Receives progress (the host CLI draws a live line; the board binary prints plain lines).
public protocol TrainingObserver: AnyObject {
    func iterationFinished(_ stats: IterationStats, options: TrainingOptions)
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
                makeReward: (inout RandomSource) -> (Reward, RewardModel<Obs, Act, ObsAct>?)) throws(LineError) {
        precondition(Plant.observationSize == Obs && Plant.actionSize == Act, "agent shapes differ from the plant's")
        self.options = options
        rng = RandomSource(seed: options.seed)
        let (reward, learned) = makeReward(&rng)
        agent = LearningAgent(observationBounds: Plant.observationBounds, hyperparameters: hyperparameters,
                              capacity: max(options.maxRealSteps, 1), reward: reward, learnedReward: learned,
                              rng: &rng)
        plant = try Plant(mode: .board)
        evaluationPlant = try Plant(mode: .board)
        obs = allocateFloats(Obs)
        next = allocateFloats(Obs)
        action = allocateFloats(Act)
    }

    deinit { obs.deallocate(); next.deallocate(); action.deallocate() }

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
    public func run<Observer: TrainingObserver>(observer: Observer) throws(LineError) -> TrainingSummary {
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
            stats.episodeReturn = try collect(episode: iteration, steps: steps, random: iteration < options.randomEpisodes)
            summary.collectionSeconds += Double(edge_monotonic_ns() - c0) * 1e-9
            realSteps += steps
            stats.improvement = agent.improve(rng: &rng)
            let e0 = edge_monotonic_ns()
            (stats.evaluationMean, stats.evaluationStd) = try evaluate(episodes: options.evaluationEpisodes)
            stats.evaluationSeconds = Double(edge_monotonic_ns() - e0) * 1e-9
            iteration += 1
            stats.iteration = iteration
            stats.realSteps = realSteps
            stats.elapsedSeconds = Double(edge_monotonic_ns() - start) * 1e-9
            summary.fitSeconds += stats.improvement.fitSeconds
            summary.imaginationSeconds += stats.improvement.imaginationSeconds
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
}
