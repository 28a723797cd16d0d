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
    /// The run analyzed: the in-memory training run, or (for a data directory) its rig, real steps and
    /// the learning curve restored from its checkpoint.
    public var training = TrainingSummary()
    /// The data directory analyzed read-only (nil: trained in memory on the simulator).
    public var dataDirectory: String? = nil
    public var report = GradientDiagnosticsReport()
    public init() {}
}

/// Why the analysis could not run; `message` is one line naming the cause and the fix.
public enum GradientAnalysisError: Error {
    case training(TrainingError)
    /// The data directory could not be read (missing or damaged log or checkpoint, another rig).
    case data(FileError)
    /// The data directory holds no checkpoint yet, or no transitions.
    case emptyRun(path: String, records: Int, hasCheckpoint: Bool)
    /// `--start upright` on a rig without an upright position.
    case uprightNeedsPendulum(RigKind)
    /// Too few buffer states near upright to start from (found, needed).
    case tooFewUprightStates(found: Int, needed: Int)

    public var message: String {
        switch self {
        case .training(let e): return e.message
        case .data(let e): return e.message
        case let .emptyRun(path, records, hasCheckpoint):
            return hasCheckpoint
                ? "\(path) holds a checkpoint but no transitions: nothing to start imagined rollouts from"
                : "\(path) holds \(records) transitions but no checkpoint: the run has not finished a learning round yet (train or resume it first)"
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

/// Measures the gradients of the run in `directory` WITHOUT training and without changing a byte of it:
/// the rig comes from its transition log's schema, the start states from the log (every intact record;
/// a torn tail is skipped, not truncated), the dynamics ensemble, reward model and policy from its
/// checkpoint. `hyperparameters` must be the run's own (their γ, ensemble size, imagined-state margin
/// and policy initialization enter the analysis): pass the same `--set` overrides it was trained with.
/// The result equals analyzing the in-memory trainer at the checkpoint's state.
public func analyzeGradients(directory: String, hyperparameters: Hyperparameters, analysis: GradientAnalysisOptions)
    throws(GradientAnalysisError) -> GradientAnalysis {
    let data = DataDirectory(path: directory)
    let info: (schema: UInt32, records: Int, tornBytes: Int)
    do throws(FileError) { info = try RecordLog.inspect(path: data.transitionsPath) } catch { throw .data(error) }
    guard let shape = TransitionRecord.decode(schema: info.schema) else {
        throw .data(FileError(path: data.transitionsPath, operation: "read", code: 0,
                              detail: "unknown record schema \(info.schema)"))
    }
    guard info.records > 0 && data.hasCheckpoint else {
        throw .emptyRun(path: directory, records: info.records, hasCheckpoint: data.hasCheckpoint)
    }
    if analysis.start == .upright && shape.rig != .pendulum { throw .uprightNeedsPendulum(shape.rig) }
    var options = TrainingOptions()
    options.maxRealSteps = info.records  // the agent's buffer holds exactly the logged transitions
    let outcome: Result<GradientAnalysis, GradientAnalysisError>
    do throws(TrainingError) {
        outcome = try withSimTrainer(rig: shape.rig, knownReward: false, options: options,
                                     hyperparameters: hyperparameters,
                                     DataDirectoryAnalysis(directory: data, analysis: analysis))
    } catch {
        throw .training(error)
    }
    switch outcome {
    case .success(let result): return result
    case .failure(let error): throw error
    }
}

/// Loads a data directory read-only into a fresh trainer's agent, then runs the diagnostics on it.
struct DataDirectoryAnalysis: SimTrainerVisitor {
    let directory: DataDirectory
    let analysis: GradientAnalysisOptions

    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>
    ) throws(TrainingError) -> Result<GradientAnalysis, GradientAnalysisError> {
        var result = GradientAnalysis()
        result.dataDirectory = directory.path
        do throws(FileError) {
            let loaded = try trainer.loadReadOnly(directory)
            result.training.recoveredRecords = loaded.records
            result.training.droppedTailBytes = loaded.tornBytes
        } catch {
            return .failure(.data(error))
        }
        result.training.rig = Plant.kind
        result.training.realSteps = trainer.agent.buffer.count
        result.training.curve = trainer.curve
        result.training.iterations = trainer.curve.count
        result.training.evaluationMean = trainer.curve.last?.evaluationMean ?? 0
        result.training.evaluationStd = trainer.curve.last?.evaluationStd ?? 0
        return analyzeAgent(trainer, analysis: analysis, into: result)
    }
}

extension Trainer {
    /// Reads `directory` without changing it (no directory created, no torn tail truncated, nothing
    /// written): every intact record of its transition log into the agent's buffer, through the same
    /// record decoding as `openDataDirectory`, and the agent, generator and learning curve from its
    /// checkpoint through `restoreRun`. Returns the records read and the torn-tail bytes left in place.
    func loadReadOnly(_ directory: DataDirectory) throws(FileError) -> (records: Int, tornBytes: Int) {
        let path = directory.transitionsPath
        let bytes = try FileHandle(path: path, mode: .read).readAll()
        guard bytes.count >= RecordLog.headerSize else {
            throw FileError(path: path, operation: "read", code: 0, detail: "not an edge-ctl dataset log (too short)")
        }
        var malformed = 0
        let scan = try RecordLog.scan(bytes, path: path,
                                      expectedSchema: source.schema) { payload in
            if appendLoggedTransition(payload) == nil { malformed += 1 }
        }
        guard malformed == 0 else {
            throw FileError(path: path, operation: "read", code: 0, detail: "\(malformed) records have the wrong size for this rig")
        }
        try restoreRun(from: CheckpointReader(try Checkpoint.read(from: directory.checkpointPath),
                                              path: directory.checkpointPath))
        return (scan.records, bytes.count - scan.validEnd)
    }
}

/// Trains, then runs the diagnostics on the trainer's agent.
struct GradientAnalysisRun<Observer: TrainingObserver>: SimTrainerVisitor {
    let observer: Observer
    let analysis: GradientAnalysisOptions

    func visit<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
        _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>
    ) throws(TrainingError) -> Result<GradientAnalysis, GradientAnalysisError> {
        var result = GradientAnalysis()
        result.training = try trainer.run(observer: observer)
        return analyzeAgent(trainer, analysis: analysis, into: result)
    }
}

/// The diagnostics of `trainer`'s agent as it is now (models, policy, transition buffer); changes
/// none of them (the estimator differentiates copies).
func analyzeAgent<Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int, Reward: RewardFunction>(
    _ trainer: SimTrainer<Plant, Obs, Act, ObsAct, Obs2, Reward>, analysis: GradientAnalysisOptions,
    into result: GradientAnalysis
) -> Result<GradientAnalysis, GradientAnalysisError> {
    var result = result
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
