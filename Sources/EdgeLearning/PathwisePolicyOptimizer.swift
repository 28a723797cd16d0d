import EdgeCore

/// What one `PathwisePolicyOptimizer.improve` did.
public struct PathwiseReport {
    /// Adam steps taken, and steps skipped because the gradient was not finite.
    public var steps = 0
    public var skippedSteps = 0
    /// Imagined steps rolled out (rollouts × horizon per step).
    public var imaginedSteps = 0
    /// Mean over steps of the imagined return J (raw reward units, discounted) and of the gradient norm
    /// before clipping (in the loss units, rewardScale · J).
    public var meanReturn: Double = 0
    public var meanGradNorm: Double = 0
    public init() {}
}

/// Policy improvement by the pathwise gradient of the imagined return: backpropagation through the
/// learned reward and dynamics models and the policy (`ImaginedReturnGradient.pathwiseGradient`), the
/// alternative to PPO in imagination that `edge-ctl compare` measures. Each step rolls out
/// `rollouts` × `horizon` imagined steps from real start states (the imagined-step budget of one PPO
/// iteration), takes ∇θ of −rewardScale · J, clips its global norm to `maxGradNorm` and takes one Adam
/// step with PPO's policy learning rate and ε. The objective is the finite-horizon return with no value
/// bootstrap. Adam state persists across calls. Not thread-safe.
public final class PathwisePolicyOptimizer<World: DifferentiableWorldModel, let Obs: Int, let Act: Int> {
    /// The estimator; its policy is the one optimized between `improve`'s copy-in and copy-out.
    public let gradient: ImaginedReturnGradient<World, Obs, Act>
    public let hyperparameters: Hyperparameters
    let meanOptimizer: Adam
    let logStdOptimizer: Adam
    let scratch: UnsafeMutablePointer<Double>

    /// An optimizer for policies with these bounds, sized for `hyperparameters.rollouts` × `horizon`.
    public init(world: World, observationBounds: [Float], actionLow: [Float], actionHigh: [Float],
                hyperparameters: Hyperparameters) {
        let h = hyperparameters
        self.hyperparameters = h
        gradient = ImaginedReturnGradient(world: world, observationBounds: observationBounds, actionLow: actionLow,
                                          actionHigh: actionHigh, maxHorizon: h.horizon,
                                          maxLanes: paddedToLanes(h.rollouts), gamma: h.gamma)
        meanOptimizer = Adam(store: gradient.policy.meanNetwork.parameters, learningRate: h.policyLearningRate,
                             epsilon: h.adamEpsilon)
        logStdOptimizer = Adam(store: gradient.policy.logStd, learningRate: h.policyLearningRate, epsilon: h.adamEpsilon)
        scratch = .allocate(capacity: gradient.parameterCount)
        scratch.initialize(repeating: 0, count: gradient.parameterCount)
    }

    deinit { scratch.deallocate() }

    /// `steps` gradient steps on a copy of `policy`, then copies the result back into `policy`.
    public func improve(policy: GaussianPolicy<Obs, Act>, starts: StartStateSampler<Obs, Act>, steps: Int,
                        rng: inout RandomSource) -> PathwiseReport {
        let h = hyperparameters
        let optimized = gradient.policy
        gradient.copyPolicy(from: policy)
        var report = PathwiseReport()
        for _ in 0..<steps {
            starts.fill(count: h.rollouts, lanes: paddedToLanes(h.rollouts), rng: &rng, into: gradient.startStates)
            report.meanReturn += gradient.rollout(count: h.rollouts, horizon: h.horizon, rng: &rng)
            report.imaginedSteps += h.rollouts * h.horizon
            gradient.pathwiseGradient(into: scratch)  // ∇θ J, also in the policy's gradient buffers
            for store in [optimized.meanNetwork.parameters, optimized.logStd] {
                for i in 0..<store.count { store.grads[i] *= -h.rewardScale }
            }
            let norm = PPO<Obs, Act>.clipGlobalGradNorm(optimized.meanNetwork.parameters, optimized.logStd,
                                                        maxNorm: h.maxGradNorm)
            guard norm.isFinite else { report.skippedSteps += 1; continue }
            meanOptimizer.step()
            logStdOptimizer.step()
            report.steps += 1
            report.meanGradNorm += Double(norm)
        }
        if steps > 0 { report.meanReturn /= Double(steps) }
        if report.steps > 0 { report.meanGradNorm /= Double(report.steps) }
        policy.copyParameters(from: optimized)
        return report
    }
}
