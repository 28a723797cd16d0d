import EdgeCore

/// How `HybridPolicyOptimizer` splits its imagined-step budget and fits its value function.
public struct HybridSettings {
    /// Imagined steps differentiated before the value bootstrap (Dreamer's H = 15).
    public var horizon = 15
    /// Rollouts per gradient step (each from a real start state).
    public var rollouts = 67
    /// Gradient steps per PPO iteration's imagined-step budget (PPO takes epochs × minibatches Adam
    /// steps per iteration; one pathwise step per budget would take 20 times fewer).
    public var stepsPerIteration = 4
    /// λ of the TD(λ) targets the value function is fitted to.
    public var lambda: Float = 0.95
    /// Passes over each batch's imagined states for the value regression, in minibatches of at most
    /// `valueMinibatch` states.
    public var valueEpochs = 5
    public var valueMinibatch = 1024

    public init() {}

    /// Horizon `horizon` and PPO's imagined-step budget per iteration (rollouts × horizon of
    /// `hyperparameters`) split into `stepsPerIteration` gradient steps, rounded up to whole rollouts
    /// (160 × 25 = 4,000 → 4 steps of 67 × 15 = 4,020), and PPO's λ, epochs and minibatch size for the
    /// value regression.
    public init(matching hyperparameters: Hyperparameters, horizon: Int = 15, stepsPerIteration: Int = 4) {
        precondition(horizon > 0 && stepsPerIteration > 0, "the hybrid horizon and steps must be positive")
        self.horizon = horizon
        self.stepsPerIteration = stepsPerIteration
        let perStep = horizon * stepsPerIteration
        rollouts = max((hyperparameters.rollouts * hyperparameters.horizon + perStep - 1) / perStep, 2)
        lambda = hyperparameters.gaeLambda
        valueEpochs = hyperparameters.epochs
        valueMinibatch = hyperparameters.minibatchSize
    }
}

/// What one `HybridPolicyOptimizer.improve` did.
public struct HybridReport {
    /// Policy Adam steps taken, and steps skipped because the gradient was not finite.
    public var steps = 0
    public var skippedSteps = 0
    /// Imagined steps rolled out (rollouts × horizon per step).
    public var imaginedSteps = 0
    /// Means over steps: the discounted imagined reward over the short horizon (raw units), the
    /// bootstrapped objective J_V (the same plus γ^H V(s_H), raw units), the policy gradient norm before
    /// clipping (loss units, rewardScale · J_V) and the value loss ½ mean (V − R^λ)² (scaled units).
    public var meanReturn: Double = 0
    public var meanBootstrappedReturn: Double = 0
    public var meanGradNorm: Double = 0
    public var meanValueLoss: Double = 0
    public init() {}
}

/// Policy improvement in the Dreamer spirit (Hafner et al., 2020, "Dream to control"): a SHORT pathwise
/// horizon bootstrapped with a learned value function, so backpropagation only runs through H model
/// steps while the value carries the return beyond them.
///
///     J_V(θ) = (1/n) Σ_lanes [ Σ_{t<H} γ^t r(s_t, a_t) + γ^H V(s_H) / rewardScale ]
///
/// with the same reparameterized rollouts as `ImaginedReturnGradient` (fixed policy noise ε, model
/// noise ξ and ensemble members). ∇θ J_V is `pathwiseGradient` seeded at the last state with
/// dJ_V/ds_H = γ^H ∇_s V(s_H) / (n · rewardScale): the gradient flows through r_φ, f_ψ, π_θ and V's
/// INPUT. V's parameters are not trained by the policy loss: the input-gradient pass writes scratch into
/// V's gradient buffers, which are zeroed before the value's own regression; only that regression
/// steps V's Adam.
///
/// The value V (an MLP 2 × 64 tanh on the policy's scaled observations, in scaled-return units like
/// PPO's) is fitted on the same imagined rollouts to TD(λ) targets R^λ_t (GAE returns with V itself as
/// the bootstrap), over every state s_0 … s_{H−1} of every rollout, before the policy step that uses it.
/// V's output layer starts at zero (as DreamerV3's critic), so an unfitted V adds no random gradient:
/// the policy's Gaussian is clamped to the actuator range, and a mean pushed deep into the clamp by a
/// wrong early gradient gets no pathwise gradient back out of it.
///
/// Each `improve` step: draw start states, roll out, fit V, take ∇θ of −rewardScale · J_V, clip its
/// global norm to `maxGradNorm`, one Adam step with PPO's policy learning rate, then the log-std floor
/// `minLogStd` as PPO applies it. All memory is allocated in `init`; steps allocate nothing. Adam state
/// and V persist across calls. Not thread-safe.
public final class HybridPolicyOptimizer<World: DifferentiableWorldModel, let Obs: Int, let Act: Int> {
    /// The pathwise estimator over the short horizon; its policy is the one optimized between
    /// `improve`'s copy-in and copy-out.
    public let gradient: ImaginedReturnGradient<World, Obs, Act>
    /// V(s) in scaled-return units, fitted on imagined TD(λ) returns.
    public let value: ValueFunction<Obs>
    public let hyperparameters: Hyperparameters
    public let settings: HybridSettings
    let meanOptimizer: Adam
    let logStdOptimizer: Adam
    let valueOptimizer: Adam
    let inverseBound: [Float]
    let minibatchLanes: Int
    let parameterGradient: UnsafeMutablePointer<Double>
    // Per step of the last rollout [H + 1 or H][lanes], scaled units.
    let values, scaledRewards, valid, advantages, targets: UnsafeMutablePointer<Float>
    // [Obs][lanes]: network inputs, dV/dx, dJ_V/ds_H; [lanes]: dJ_V/dV.
    let input, inputGrad, terminalGrad, valueOutputGrad: UnsafeMutablePointer<Float>
    // Value minibatch: order of the (t, l) samples, inputs [Obs][minibatchLanes], targets, gradients.
    let order: UnsafeMutablePointer<Int32>
    let batchInput, batchTargets, batchGrad: UnsafeMutablePointer<Float>

    /// An optimizer for policies with these bounds; `world.maxLanes` must hold `settings.rollouts`
    /// rounded up to 16. The value network is initialized from `rng` with `hiddenInitGain`.
    public init(world: World, observationBounds: [Float], actionLow: [Float], actionHigh: [Float],
                hyperparameters: Hyperparameters, settings: HybridSettings, rng: inout RandomSource) {
        precondition(settings.horizon > 0 && settings.rollouts >= 2 && settings.valueEpochs >= 0
                     && settings.valueMinibatch > 0, "hybrid settings: horizon > 0, rollouts >= 2, minibatch > 0")
        let h = hyperparameters
        self.hyperparameters = h
        self.settings = settings
        let lanes = paddedToLanes(settings.rollouts)
        gradient = ImaginedReturnGradient(world: world, observationBounds: observationBounds, actionLow: actionLow,
                                          actionHigh: actionHigh, maxHorizon: settings.horizon, maxLanes: lanes,
                                          gamma: h.gamma)
        minibatchLanes = paddedToLanes(min(settings.valueMinibatch, settings.horizon * settings.rollouts))
        value = ValueFunction(hiddenGain: h.hiddenInitGain, maxLanes: max(lanes, minibatchLanes), rng: &rng)
        value.network.l3.initialize(rng: &rng, scale: 0)  // V ≡ 0 until fitted: no random bootstrap gradient
        meanOptimizer = Adam(store: gradient.policy.meanNetwork.parameters, learningRate: h.policyLearningRate,
                             epsilon: h.adamEpsilon)
        logStdOptimizer = Adam(store: gradient.policy.logStd, learningRate: h.policyLearningRate, epsilon: h.adamEpsilon)
        valueOptimizer = Adam(store: value.network.parameters, learningRate: h.valueLearningRate, epsilon: h.adamEpsilon)
        inverseBound = observationBounds.map { 1 / $0 }
        parameterGradient = .allocate(capacity: gradient.parameterCount)
        parameterGradient.initialize(repeating: 0, count: gradient.parameterCount)
        let steps = settings.horizon
        values = allocateFloats((steps + 1) * lanes)
        scaledRewards = allocateFloats(steps * lanes); valid = allocateFloats(steps * lanes)
        advantages = allocateFloats(steps * lanes); targets = allocateFloats(steps * lanes)
        input = allocateFloats(Obs * lanes); inputGrad = allocateFloats(Obs * lanes)
        terminalGrad = allocateFloats(Obs * lanes); valueOutputGrad = allocateFloats(lanes)
        order = .allocate(capacity: steps * lanes)
        order.initialize(repeating: 0, count: steps * lanes)
        batchInput = allocateFloats(Obs * minibatchLanes)
        batchTargets = allocateFloats(minibatchLanes); batchGrad = allocateFloats(minibatchLanes)
    }

    deinit {
        parameterGradient.deallocate(); order.deallocate()
        for p in [values, scaledRewards, valid, advantages, targets, input, inputGrad, terminalGrad, valueOutputGrad,
                  batchInput, batchTargets, batchGrad] { p.deallocate() }
    }

    /// γ^H of the bootstrap / (n · rewardScale): dJ_V/dV per rollout.
    var bootstrapWeight: Double {
        var discount: Double = 1
        for _ in 0..<gradient.horizon { discount *= Double(gradient.gamma) }
        return discount / (Double(gradient.count) * Double(hyperparameters.rewardScale))
    }

    // MARK: Objective and gradient

    /// Rolls out `count` rollouts of `settings.horizon` steps from `gradient.startStates` with noise
    /// from `rng` (as `ImaginedReturnGradient.rollout`) and returns J_V (raw reward units). Does not
    /// touch V's parameters. O(horizon · (policy + world) · lanes + value · lanes), no allocation.
    @discardableResult
    public func rollout(count: Int, rng: inout RandomSource) -> Double {
        let shortReturn = gradient.rollout(count: count, horizon: settings.horizon, rng: &rng)
        return shortReturn + bootstrapTerm()
    }

    /// γ^H (1/n) Σ V(s_H) / rewardScale of the last rollout.
    func bootstrapTerm() -> Double {
        let lanes = gradient.lanes
        scale(gradient.observations(step: gradient.horizon), into: input, lanes: lanes)
        let v = value.predict(input: input, lanes: lanes)
        var sum: Double = 0
        for l in 0..<gradient.count { sum += Double(v[l]) }
        return sum * bootstrapWeight
    }

    /// γ^H (1/n) Σ V(s_H) / rewardScale at the last `policyGradient` (raw reward units).
    public private(set) var lastBootstrapTerm: Double = 0

    /// ∇θ J_V of the last `rollout` into `gradient[0..<self.gradient.parameterCount]` (and the policy's
    /// gradient buffers): V's input gradient at s_H seeds the pathwise backward pass. Leaves scratch in
    /// V's gradient buffers (never stepped: `fitValue` zeroes them first). No allocation.
    public func policyGradient(into result: UnsafeMutablePointer<Double>) {
        let lanes = gradient.lanes, n = gradient.count
        let weight = Float(bootstrapWeight)
        // dJ_V/ds_H = weight · ∂V/∂x · (1 / bound), x = s_H / bound.
        scale(gradient.observations(step: gradient.horizon), into: input, lanes: lanes)
        let v = value.predict(input: input, lanes: lanes)
        var sum: Double = 0
        for l in 0..<n { sum += Double(v[l]) }
        lastBootstrapTerm = sum * bootstrapWeight
        for l in 0..<lanes { valueOutputGrad[l] = l < n ? weight : 0 }
        value.network.backward(batch: input, outputGrad: valueOutputGrad, lanes: lanes, inputGrad: inputGrad)
        for k in 0..<Obs {
            for l in 0..<lanes { terminalGrad[k * lanes + l] = inputGrad[k * lanes + l] * inverseBound[k] }
        }
        gradient.pathwiseGradient(into: result, terminalStateGradient: terminalGrad)
    }

    // MARK: Value regression

    /// Fits V on the last rollout: TD(λ) targets R^λ_t from the scaled rewards and V's current values
    /// at s_0 … s_H (GAE's returns), then `valueEpochs` shuffled passes of Adam steps on ½ mean (V − R^λ)²
    /// over the first `count` lanes of steps 0 ..< H, each step's gradient norm clipped to `maxGradNorm`.
    /// Returns the mean loss over the steps. O(epochs · horizon · count · value), no allocation.
    @discardableResult
    public func fitValue(rng: inout RandomSource) -> Double {
        let lanes = gradient.lanes, n = gradient.count, steps = gradient.horizon
        let h = hyperparameters
        for t in 0...steps {
            scale(gradient.observations(step: t), into: input, lanes: lanes)
            let v = value.predict(input: input, lanes: lanes)
            for l in 0..<lanes { values[t * lanes + l] = l < n ? v[l] : 0 }
        }
        for t in 0..<steps {
            for l in 0..<lanes {
                let i = t * lanes + l
                scaledRewards[i] = l < n ? h.rewardScale * gradient.rewards[i] : 0
                valid[i] = l < n ? 1 : 0
            }
        }
        GAE.compute(rewards: scaledRewards, values: values, valid: valid, steps: steps, lanes: lanes,
                    gamma: gradient.gamma, lambda: settings.lambda, advantages: advantages, returns: targets)
        let count = steps * n
        var c = 0
        for t in 0..<steps { for l in 0..<n { order[c] = Int32(t * lanes + l); c += 1 } }
        let batchSize = minibatchLanes
        let minibatches = (count + batchSize - 1) / batchSize
        var lossSum: Double = 0, updates = 0
        for _ in 0..<settings.valueEpochs {
            for i in stride(from: count - 1, to: 0, by: -1) {  // Fisher-Yates
                let j = rng.nextInt(below: i + 1)
                let swapped = order[i]; order[i] = order[j]; order[j] = swapped
            }
            for b in 0..<minibatches {
                let start = b * count / minibatches, end = (b + 1) * count / minibatches
                lossSum += valueStep(from: start, to: end, lanes: lanes)
                updates += 1
            }
        }
        return updates > 0 ? lossSum / Double(updates) : 0
    }

    /// One Adam step of V on samples order[start..<end]; returns the loss before the step.
    func valueStep(from start: Int, to end: Int, lanes: Int) -> Double {
        let m = end - start, padded = paddedToLanes(m)
        let states = gradient.states
        for i in 0..<padded {
            guard i < m else {
                for k in 0..<Obs { batchInput[k * padded + i] = 0 }
                batchTargets[i] = 0
                continue
            }
            let index = Int(order[start + i])
            let t = index / lanes, l = index - t * lanes
            for k in 0..<Obs { batchInput[k * padded + i] = states[(t * Obs + k) * lanes + l] * inverseBound[k] }
            batchTargets[i] = targets[index]
        }
        value.network.parameters.zeroGrads()
        let v = value.predict(input: batchInput, lanes: padded)
        var loss: Double = 0
        let inverse = 1 / Float(m)
        for i in 0..<padded {
            let error = i < m ? v[i] - batchTargets[i] : 0
            loss += 0.5 * Double(error * error)
            batchGrad[i] = error * inverse
        }
        value.backward(input: batchInput, valueGrad: batchGrad, lanes: padded)
        _ = value.network.parameters.clipGradNorm(hyperparameters.maxGradNorm)
        valueOptimizer.step()
        return loss / Double(m)
    }

    // MARK: Improvement

    /// `steps` hybrid steps on a copy of `policy`, then copies the result back into `policy`.
    public func improve(policy: GaussianPolicy<Obs, Act>, starts: StartStateSampler<Obs, Act>, steps: Int,
                        rng: inout RandomSource) -> HybridReport {
        let h = hyperparameters, n = settings.rollouts
        let optimized = gradient.policy
        gradient.copyPolicy(from: policy)
        var report = HybridReport()
        for _ in 0..<steps {
            starts.fill(count: n, lanes: paddedToLanes(n), rng: &rng, into: gradient.startStates)
            let shortReturn = gradient.rollout(count: n, horizon: settings.horizon, rng: &rng)
            report.imaginedSteps += n * settings.horizon
            report.meanValueLoss += fitValue(rng: &rng)
            policyGradient(into: parameterGradient)  // ∇θ J_V with the refitted V, in the policy's buffers
            report.meanReturn += shortReturn
            report.meanBootstrappedReturn += shortReturn + lastBootstrapTerm
            for store in [optimized.meanNetwork.parameters, optimized.logStd] {
                for i in 0..<store.count { store.grads[i] *= -h.rewardScale }
            }
            let norm = PPO<Obs, Act>.clipGlobalGradNorm(optimized.meanNetwork.parameters, optimized.logStd,
                                                        maxNorm: h.maxGradNorm)
            guard norm.isFinite else { report.skippedSteps += 1; continue }
            meanOptimizer.step()
            logStdOptimizer.step()
            for d in 0..<Act where optimized.logStd.values[d] < h.minLogStd { optimized.logStd.values[d] = h.minLogStd }
            report.steps += 1
            report.meanGradNorm += Double(norm)
        }
        if steps > 0 {
            report.meanBootstrappedReturn /= Double(steps)
            report.meanReturn /= Double(steps)
            report.meanValueLoss /= Double(steps)
        }
        if report.steps > 0 { report.meanGradNorm /= Double(report.steps) }
        policy.copyParameters(from: optimized)
        return report
    }

    /// x = s / bound per observation dimension.
    func scale(_ s: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, lanes: Int) {
        for k in 0..<Obs {
            for l in 0..<lanes { x[k * lanes + l] = s[k * lanes + l] * inverseBound[k] }
        }
    }
}
