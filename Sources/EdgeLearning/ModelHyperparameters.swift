/// How one network (or ensemble) is fitted to the transition buffer: AdamW minibatch steps with early
/// stopping on the held-out transitions. Defaults are the PyTorch prototype's (DESIGN.md section 4).
public struct FitHyperparameters {
    /// AdamW step size.
    public var learningRate: Float = 1e-3
    /// AdamW decoupled weight decay (multiplied by the learning rate each step).
    public var weightDecay: Float = 1e-4
    /// Transitions per minibatch (rounded up to a multiple of 16 lanes for the kernels).
    public var batchSize = 64
    /// Stop after this many epochs in which neither the holdout loss nor the holdout mean squared error
    /// improved by `minRelativeImprovement` (each ensemble member separately).
    public var patienceEpochs = 5
    /// Relative holdout improvement (of the loss or the MSE) that resets the patience counter (0.01 = 1%).
    public var minRelativeImprovement: Float = 0.01
    /// Upper bound on minibatch steps per member in one refit (the learning loop's time budget).
    public var maxStepsPerFit = 1_500

    public init() {}
}

/// Every hyperparameter of the world model (dynamics ensemble f_psi and reward model r_phi).
/// The hidden width (64) and activation (SiLU) are part of the network types, not settings.
public struct ModelHyperparameters {
    /// Number of probabilistic dynamics networks in the ensemble.
    public var ensembleSize = 5
    /// Fitting of the dynamics ensemble.
    public var dynamicsFit = FitHyperparameters()
    /// Fitting of the reward model.
    public var rewardFit = FitHyperparameters()
    /// Lower soft bound of the predicted log-variance, in standardized state-change units.
    public var minLogVariance: Float = -10
    /// Upper soft bound of the predicted log-variance, in standardized state-change units.
    public var maxLogVariance: Float = 0.5
    /// Most samples (lanes) one forward call handles: imagination batches up to this many rollouts.
    /// A multiple of 16.
    public var maxLanes = 256
    /// Imagined next states are clipped to the fitted data's observation range widened by this
    /// fraction of its span on each side (0.05 = ±5%); negative disables the clipping.
    public var imaginedStateMargin: Float = 0.05

    public init() {}
}
