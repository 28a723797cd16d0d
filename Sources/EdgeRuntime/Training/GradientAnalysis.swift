import EdgeCore
import EdgeIO
import EdgeLearning

/// Which policy the gradient analysis differentiates.
public enum AnalyzedPolicy: String, CaseIterable {
    /// The agent's policy after training.
    case trained
    /// A freshly initialized policy (the training hyperparameters' initialization, its own seed).
    case initial
}

/// Where the analysis' imagined rollouts start.
public enum AnalysisStart: String, CaseIterable {
    /// Real states drawn uniformly from the agent's transition buffer.
    case buffer
    /// Real states near the pendulum's upright position (|θ| < 0.3 rad, |θ̇| < 1 rad/s); pendulum only.
    case upright
}

/// What `analyzeGradientsOnSimulator` measures after training.
public struct GradientAnalysisOptions {
    public var policy = AnalyzedPolicy.trained
    public var start = AnalysisStart.buffer
    /// Horizons, starts, batches and seed of the sweep (γ is taken from the training hyperparameters).
    public var diagnostics = GradientDiagnosticsSettings()
    public init() {}
}

/// A trained agent's gradient diagnostics and the training run behind them.
public struct GradientAnalysis {
    public var training = TrainingSummary()
    public var report = GradientDiagnosticsReport()
    public init() {}
}

/// Why the analysis could not run; `message` is one line naming the cause and the fix.
public enum GradientAnalysisError: Error {
    case training(TrainingError)
    /// `--start upright` on a rig without an upright position.
    case uprightNeedsPendulum(RigKind)
    /// Too few buffer states near upright to start from (found, needed).
    case tooFewUprightStates(found: Int, needed: Int)

    public var message: String {
        switch self {
        case .training(let e): return e.message
        case .uprightNeedsPendulum(let rig):
            return "--start upright needs the pendulum rig (the \(rig.rawValue) rig has no upright position); use --start buffer"
        case let .tooFewUprightStates(found, needed):
            return "only \(found) real states lie near upright (|θ| < 0.3, |θ̇| < 1), \(needed) needed: train longer (--max-real-steps) or use --start buffer"
        }
    }
}

/// Trains on the simulated `rig` with the learned reward model (as `edge-ctl train` does), then measures
/// the pathwise and likelihood-ratio gradients of the imagined return through a read-only snapshot of
/// the learned models (`LearnedModelSnapshot`), for the trained or a fresh policy (issue 8).
public func analyzeGradientsOnSimulator<Observer: TrainingObserver>(
    rig: RigKind, options: TrainingOptions, hyperparameters: Hyperparameters, analysis: GradientAnalysisOptions,
    observer: Observer
) throws(GradientAnalysisError) -> GradientAnalysis {
    if analysis.start == .upright && rig != .pendulum { throw .uprightNeedsPendulum(rig) }
    let outcome: Result<GradientAnalysis, GradientAnalysisError>
    do throws(TrainingError) {
        outcome = try withSimTrainer(rig: rig, knownReward: false, options: options, hyperparameters: hyperparameters,
                                     GradientAnalysisRun(observer: observer, analysis: analysis))
    } catch {
        throw .training(error)
    }
    switch outcome {
    case .success(let result): return result
    case .failure(let error): throw error
    }
}

/// Trains, then runs the diagnostics on the trainer's agent.
struct GradientAnalysisRun<Observer: TrainingObserver>: SimTrainerVisitor {
    let observer: Observer
    let analysis: GradientAnalysisOptions

    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: Trainer<Plant, Obs, Act, ObsAct, Obs2, Reward>
    ) throws(TrainingError) -> Result<GradientAnalysis, GradientAnalysisError> {
        var result = GradientAnalysis()
        result.training = try trainer.run(observer: observer)
        let agent = trainer.agent
        guard let rewardModel = agent.rewardModel else {
            preconditionFailure("the gradient analysis trains with the learned reward model")
        }
        let starts: StartStateSampler<Obs, Act>
        switch analysis.start {
        case .buffer: starts = StartStateSampler(buffer: agent.buffer)
        case .upright:
            let rows = uprightPendulumRows(agent.buffer)
            let needed = 8
            guard rows.count >= needed else { return .failure(.tooFewUprightStates(found: rows.count, needed: needed)) }
            starts = StartStateSampler(buffer: agent.buffer, rows: rows)
        }
        var settings = analysis.diagnostics
        settings.gamma = agent.hyperparameters.gamma
        let lanes = paddedToLanes(settings.starts)
        let world = LearnedModelSnapshot(dynamics: agent.dynamics, reward: rewardModel, buffer: agent.buffer,
                                         maxLanes: lanes)
        let low = [Float](repeating: -1, count: Act), high = [Float](repeating: 1, count: Act)  // as Agent builds it
        let estimator = ImaginedReturnGradient<_, Obs, Act>(
            world: world, observationBounds: Plant.observationBounds, actionLow: low, actionHigh: high,
            maxHorizon: settings.horizons.max() ?? 1, maxLanes: lanes, gamma: settings.gamma)
        switch analysis.policy {
        case .trained: estimator.copyPolicy(from: agent.policy)
        case .initial:
            let h = agent.hyperparameters
            var rng = RandomSource(seed: settings.seed &+ 0x1217)
            estimator.copyPolicy(from: GaussianPolicy<Obs, Act>(
                observationBounds: Plant.observationBounds, actionLow: low, actionHigh: high,
                initialLogStd: h.initialLogStd, hiddenGain: h.hiddenInitGain, outputScale: h.policyOutputScale,
                maxLanes: 0, rng: &rng))
        }
        result.report = GradientDiagnostics.run(estimator: estimator, starts: starts, settings: settings)
        result.report.policyLabel = analysis.policy.rawValue
        result.report.startLabel = analysis.start.rawValue
        return .success(result)
    }

    /// Buffer rows of the pendulum (observation cos θ, sin θ, θ̇) with |θ| < 0.3 rad and |θ̇| < 1 rad/s.
    func uprightPendulumRows<let Obs: Int, let Act: Int>(_ buffer: TransitionBuffer<Obs, Act>) -> [Int32] {
        let cosLimit: Float = 0.955_336_5  // cos 0.3
        return (0..<buffer.count).filter { r in
            buffer.observation(r, 0) > cosLimit && abs(buffer.observation(r, 2)) < 1
        }.map { Int32($0) }
    }
}
