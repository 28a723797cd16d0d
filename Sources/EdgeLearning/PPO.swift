import EdgeCore

/// Proximal policy optimization (Schulman et al., 2017) of a `GaussianPolicy` and its
/// `ValueFunction` on imagined rollouts, in the style of cleanrl's ppo_continuous_action: GAE, then
/// `epochs` passes of shuffled minibatches, each one clipped-surrogate step for the policy and one
/// value-regression step, Adam with global gradient-norm clipping for each network.
///
/// Why no gradient can reach the world model: PPO never sees it. `update` takes an
/// `ImaginedRollouts`, which holds plain numbers (observations, actions, log-probabilities, rewards,
/// values) copied out of the imagination; there is no computation graph to flow back through. The
/// three Adam optimizers are built here, privately, from this PPO's own policy and value parameter
/// stores, and no initializer or method accepts another store. The model lives only inside
/// `Imagination`, typed as a generic `WorldModel` whose protocol has forward functions and no way to
/// reach a parameter store. So code that updates f_ψ or r_φ from the policy loss cannot be written
/// against these types without changing them. The test "PPO leaves the world model untouched"
/// checks the same thing at run time.
///
/// All memory is allocated in `init`; `update` allocates nothing. Not thread-safe.
public final class PPO<let Obs: Int, let Act: Int> {
    public let policy: GaussianPolicy<Obs, Act>
    public let value: ValueFunction<Obs>
    public let hyperparameters: Hyperparameters

    /// The optimizers (public for checkpoints: their moments and step counts are saved and restored).
    public let meanOptimizer: Adam
    public let logStdOptimizer: Adam
    public let valueOptimizer: Adam
    /// Largest minibatch in lanes, and how many imagined steps one update can take.
    @usableFromInline let minibatchLanes: Int
    @usableFromInline let stepCapacity: Int
    @usableFromInline let order: UnsafeMutablePointer<Int32>  // [stepCapacity] valid step indices t·lanes + l
    // Minibatch buffers [features][minibatchLanes].
    @usableFromInline let input, actions, oldLogProb, advantages, returns, oldValues: UnsafeMutablePointer<Float>
    @usableFromInline let newLogProb, logProbGrad, meanGrad, valueGrad: UnsafeMutablePointer<Float>

    /// A new policy (near-zero mean, σ from `initialLogStd`) and value network for observations bounded
    /// by ±`observationBounds` and actions in [`actionLow`, `actionHigh`], sized for
    /// `hyperparameters.rollouts` × `horizon` imagined steps and `minibatchSize`.
    public init(observationBounds: [Float], actionLow: [Float], actionHigh: [Float],
                hyperparameters: Hyperparameters, rng: inout RandomSource) {
        let h = hyperparameters
        precondition(h.rollouts > 0 && h.horizon > 0 && h.minibatchSize > 0 && h.epochs > 0,
                     "rollouts, horizon, minibatchSize and epochs must be positive")
        let rolloutLanes = paddedToLanes(h.rollouts)
        stepCapacity = rolloutLanes * h.horizon
        minibatchLanes = paddedToLanes(min(h.minibatchSize, stepCapacity))
        let lanes = max(rolloutLanes, minibatchLanes)
        self.hyperparameters = h
        policy = GaussianPolicy(observationBounds: observationBounds, actionLow: actionLow, actionHigh: actionHigh,
                                initialLogStd: h.initialLogStd, hiddenGain: h.hiddenInitGain,
                                outputScale: h.policyOutputScale, maxLanes: lanes, rng: &rng)
        value = ValueFunction(hiddenGain: h.hiddenInitGain, maxLanes: lanes, rng: &rng)
        meanOptimizer = Adam(store: policy.meanNetwork.parameters, learningRate: h.policyLearningRate,
                             epsilon: h.adamEpsilon)
        logStdOptimizer = Adam(store: policy.logStd, learningRate: h.policyLearningRate, epsilon: h.adamEpsilon)
        valueOptimizer = Adam(store: value.network.parameters, learningRate: h.valueLearningRate,
                              epsilon: h.adamEpsilon)
        order = .allocate(capacity: stepCapacity)
        let n = minibatchLanes
        input = allocateFloats(Obs * n); actions = allocateFloats(Act * n)
        oldLogProb = allocateFloats(n); advantages = allocateFloats(n); returns = allocateFloats(n)
        oldValues = allocateFloats(n); newLogProb = allocateFloats(n); logProbGrad = allocateFloats(n)
        meanGrad = allocateFloats(Act * n); valueGrad = allocateFloats(n)
    }

    deinit {
        order.deallocate()
        for p in [input, actions, oldLogProb, advantages, returns, oldValues, newLogProb, logProbGrad, meanGrad,
                  valueGrad] { p.deallocate() }
    }

    // MARK: Update

    /// One PPO update on a batch of imagined rollouts: advantages and returns by GAE (written into
    /// `rollouts`), then `epochs` × (shuffle, equal minibatches of at most `minibatchSize`) steps.
    /// O(epochs · steps · network). No allocation.
    @inlinable
    public func update(_ rollouts: ImaginedRollouts<Obs, Act>, rng: inout RandomSource) -> PPOReport {
        let h = hyperparameters
        let lanes = rollouts.lanes
        precondition(lanes * rollouts.horizon <= stepCapacity && lanes <= policy.maxLanes,
                     "rollouts larger than this PPO was sized for (rollouts × horizon in its hyperparameters)")
        GAE.compute(rewards: rollouts.rewards, values: rollouts.values, valid: rollouts.valid,
                    steps: rollouts.horizon, lanes: lanes, gamma: h.gamma, lambda: h.gaeLambda,
                    advantages: rollouts.advantages, returns: rollouts.returns)

        var report = PPOReport()
        var count = 0
        for i in 0..<(lanes * rollouts.horizon) where rollouts.valid[i] != 0 {
            order[count] = Int32(i)
            count += 1
        }
        report.samples = count
        guard count > 0 else { return report }
        report.explainedVariance = Self.explainedVariance(rollouts, order: order, count: count)

        let minibatches = (count + h.minibatchSize - 1) / h.minibatchSize
        for _ in 0..<h.epochs {
            for i in stride(from: count - 1, to: 0, by: -1) {  // Fisher-Yates
                let j = rng.nextInt(below: i + 1)
                let swapped = order[i]; order[i] = order[j]; order[j] = swapped
            }
            for b in 0..<minibatches {
                let start = b * count / minibatches, end = (b + 1) * count / minibatches
                gather(rollouts, from: start, to: end)
                step(count: end - start, report: &report)
            }
        }
        report.finishAverages()
        return report
    }

    /// Copies steps order[start..<end] of the rollouts into the minibatch buffers ([features][lanes]
    /// with lanes = the count padded to a lane block, observations scaled for the networks), zeroing
    /// the padding lanes and standardizing the advantages if asked.
    @inlinable
    func gather(_ rollouts: ImaginedRollouts<Obs, Act>, from start: Int, to end: Int) {
        let n = end - start, padded = paddedToLanes(n), lanes = rollouts.lanes
        let scale = policy.inverseObservationBound
        for i in 0..<padded {
            guard i < n else {
                for d in 0..<Obs { input[d * padded + i] = 0 }
                for d in 0..<Act { actions[d * padded + i] = 0 }
                oldLogProb[i] = 0; advantages[i] = 0; returns[i] = 0; oldValues[i] = 0
                continue
            }
            let index = Int(order[start + i])
            let t = index / lanes, l = index - t * lanes
            let obs = rollouts.observations + t * Obs * lanes + l
            for d in 0..<Obs { input[d * padded + i] = obs[d * lanes] * scale[d] }
            let u = rollouts.actions + t * Act * lanes + l
            for d in 0..<Act { actions[d * padded + i] = u[d * lanes] }
            oldLogProb[i] = rollouts.logProbs[index]
            advantages[i] = rollouts.advantages[index]
            returns[i] = rollouts.returns[index]
            oldValues[i] = rollouts.values[index]
        }
        if hyperparameters.normalizeAdvantages { Self.standardize(advantages, count: n) }
    }

    /// One Adam step for the policy and one for the value network on the gathered minibatch of `n` samples.
    @inlinable
    func step(count n: Int, report: inout PPOReport) {
        let lanes = paddedToLanes(n)
        let maxNorm = hyperparameters.maxGradNorm

        // Policy: clipped surrogate (minus the entropy bonus), back through the mean network.
        policy.zeroGrads()
        let mu = policy.forwardMean(input: input, lanes: lanes)
        let loss = policyLoss(mean: mu, actions: actions, oldLogProb: oldLogProb, advantages: advantages,
                              count: n, lanes: lanes, meanGrad: meanGrad)
        policy.backward(input: input, meanGrad: meanGrad, lanes: lanes)
        report.policyGradNorm += Self.clipGlobalGradNorm(policy.meanNetwork.parameters, policy.logStd, maxNorm: maxNorm)
        meanOptimizer.step()
        logStdOptimizer.step()
        let floor = hyperparameters.minLogStd
        for d in 0..<Act where policy.logStd.values[d] < floor { policy.logStd.values[d] = floor }

        // Value: regression on the GAE returns.
        value.network.parameters.zeroGrads()
        let v = value.predict(input: input, lanes: lanes)
        report.valueLoss += valueLoss(predicted: v, returns: returns, oldValues: oldValues, count: n, lanes: lanes,
                                      valueGrad: valueGrad)
        value.backward(input: input, valueGrad: valueGrad, lanes: lanes)
        report.valueGradNorm += value.network.parameters.clipGradNorm(maxNorm)
        valueOptimizer.step()

        report.policyLoss += loss.loss
        report.entropy += loss.entropy
        report.approxKL += loss.approxKL
        report.clipFraction += loss.clipFraction
        report.minibatchUpdates += 1
    }

    // MARK: Losses

    /// The policy loss of one minibatch given the mean network's output μ[Act][lanes]:
    ///
    ///     ρ = exp(log π(u|s) − log π_old(u|s))
    ///     L = −(1/n) Σ min(ρ A, clip(ρ, 1 − ε, 1 + ε) A) − c_H · H(π)
    ///
    /// over the first `count` (= n) lanes of actions u[Act][lanes], oldLogProb and advantages [lanes].
    /// Writes dL/dμ into `meanGrad` [Act][lanes] (zero in lanes from `count` on) and adds dL/dlog σ
    /// into `policy.logStd.grads`. A sample whose ratio is clipped contributes no gradient.
    /// O(Act · lanes), no allocation.
    @inlinable
    public func policyLoss(mean mu: UnsafePointer<Float>, actions u: UnsafePointer<Float>,
                           oldLogProb: UnsafePointer<Float>, advantages: UnsafePointer<Float>,
                           count n: Int, lanes: Int, meanGrad: UnsafeMutablePointer<Float>) -> PolicyLossReport {
        let epsilon = hyperparameters.clipRange
        policy.logProb(mean: mu, actions: u, lanes: lanes, into: newLogProb)
        let one = Vec(repeating: 1), zero = Vec(repeating: 0)
        let low = Vec(repeating: 1 - epsilon), high = Vec(repeating: 1 + epsilon)
        let gradScale = Vec(repeating: -1 / Float(n))
        var lossSum = zero, klSum = zero, clippedSum = zero
        var l = 0
        while l < lanes {
            let inBatch = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(l) .< Int32(n)
            let logRatio = (loadVec(newLogProb, l) - loadVec(oldLogProb, l)).replacing(with: 0, where: .!inBatch)
            let ratio = fastExp(logRatio)
            let a = loadVec(advantages, l).replacing(with: 0, where: .!inBatch)
            let clippedRatio = ratio.replacing(with: low, where: ratio .< low).replacing(with: high, where: ratio .> high)
            let unclippedTerm = ratio * a, clippedTerm = clippedRatio * a
            lossSum -= unclippedTerm.replacing(with: clippedTerm, where: clippedTerm .< unclippedTerm)
            // The gradient flows through ρA unless the clip is the active (smaller) term.
            let active = ((a .>= zero) .& (ratio .<= high)) .| ((a .< zero) .& (ratio .>= low))
            storeVec((gradScale * unclippedTerm).replacing(with: 0, where: .!(active .& inBatch)), logProbGrad, l)
            klSum += ((ratio - one) - logRatio).replacing(with: 0, where: .!inBatch)
            clippedSum += one.replacing(with: 0, where: .!(inBatch .& ((ratio .< low) .| (ratio .> high))))
            l += vecWidth
        }
        policy.logProbBackward(mean: mu, actions: u, logProbGrad: logProbGrad, lanes: lanes, meanGrad: meanGrad)
        let coefficient = hyperparameters.entropyCoefficient
        let entropy = policy.entropy
        policy.addEntropyGradient(scale: -coefficient)
        let inverseCount = 1 / Float(n)
        return PolicyLossReport(loss: horizontalSum(lossSum) * inverseCount - coefficient * entropy,
                                entropy: entropy, approxKL: horizontalSum(klSum) * inverseCount,
                                clipFraction: horizontalSum(clippedSum) * inverseCount)
    }

    /// The value loss ½ (1/n) Σ (V − R)² over the first `count` lanes of predicted V and returns R
    /// [lanes]. With `valueClipRange` c > 0 it is cleanrl's clipped form ½ (1/n) Σ max((V − R)²,
    /// (V_old + clip(V − V_old, −c, c) − R)²), whose gradient is zero where the clipped term is larger.
    /// Writes dL/dV into `valueGrad` [lanes] (zero from `count` on). O(lanes), no allocation.
    @inlinable
    public func valueLoss(predicted v: UnsafePointer<Float>, returns r: UnsafePointer<Float>,
                          oldValues: UnsafePointer<Float>, count n: Int, lanes: Int,
                          valueGrad: UnsafeMutablePointer<Float>) -> Float {
        let c = hyperparameters.valueClipRange
        let clipLow = Vec(repeating: -c), clipHigh = Vec(repeating: c)
        let scale = Vec(repeating: 1 / Float(n))
        var sum = Vec(repeating: 0)
        var l = 0
        while l < lanes {
            let inBatch = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(l) .< Int32(n)
            let vl = loadVec(v, l), old = loadVec(oldValues, l)
            let error = (vl - loadVec(r, l)).replacing(with: 0, where: .!inBatch)
            var squared = error * error
            var gradient = error
            if c > 0 {
                var change = vl - old
                change = change.replacing(with: clipLow, where: change .< clipLow)
                    .replacing(with: clipHigh, where: change .> clipHigh)
                let clippedError = (old + change - loadVec(r, l)).replacing(with: 0, where: .!inBatch)
                let clippedSquared = clippedError * clippedError
                gradient = gradient.replacing(with: 0, where: clippedSquared .> squared)
                squared = squared.replacing(with: clippedSquared, where: clippedSquared .> squared)
            }
            sum += squared
            storeVec(gradient * scale, valueGrad, l)
            l += vecWidth
        }
        return 0.5 * horizontalSum(sum) / Float(n)
    }

    // MARK: Helpers

    /// 1 − Var(R − V) / Var(R) over the valid steps: how much of the return variance the value
    /// network explained before this update (1 perfect, 0 no better than a constant, negative worse).
    @inlinable
    static func explainedVariance(_ rollouts: ImaginedRollouts<Obs, Act>, order: UnsafePointer<Int32>,
                                  count: Int) -> Float {
        var sumR: Double = 0, sumR2: Double = 0, sumE: Double = 0, sumE2: Double = 0
        for i in 0..<count {
            let index = Int(order[i])
            let r = Double(rollouts.returns[index]), e = r - Double(rollouts.values[index])
            sumR += r; sumR2 += r * r; sumE += e; sumE2 += e * e
        }
        let n = Double(count)
        let varianceR = sumR2 / n - (sumR / n) * (sumR / n)
        let varianceE = sumE2 / n - (sumE / n) * (sumE / n)
        return varianceR > 0 ? Float(1 - varianceE / varianceR) : 0
    }

    /// x ← (x − mean) / (std + 1e-8) over x[0..<count] (std with Bessel's correction, as torch's).
    @inlinable
    static func standardize(_ x: UnsafeMutablePointer<Float>, count: Int) {
        var sum: Double = 0, sumSquares: Double = 0
        for i in 0..<count { sum += Double(x[i]); sumSquares += Double(x[i]) * Double(x[i]) }
        let n = Double(count)
        let mean = sum / n
        let variance = count > 1 ? max(sumSquares - n * mean * mean, 0) / (n - 1) : 0
        let inverse = Float(1 / (variance.squareRoot() + 1e-8))
        for i in 0..<count { x[i] = (x[i] - Float(mean)) * inverse }
    }

    /// Scales the gradients of both stores so their joint L2 norm is at most `maxNorm`; returns the
    /// norm before scaling.
    @inlinable
    static func clipGlobalGradNorm(_ a: ParameterStore, _ b: ParameterStore, maxNorm: Float) -> Float {
        let na = a.gradNorm(), nb = b.gradNorm()
        let norm = (na * na + nb * nb).squareRoot()
        if norm > maxNorm && norm.isFinite {
            let s = Vec(repeating: maxNorm / norm)
            func scale(_ store: ParameterStore) {
                var i = 0
                while i < store.count { storeVec(loadVec(store.grads, i) * s, store.grads, i); i += vecWidth }
            }
            scale(a)
            scale(b)
        }
        return norm
    }
}

/// Statistics of one policy-loss evaluation (`PPO.policyLoss`).
public struct PolicyLossReport {
    /// Clipped-surrogate loss minus the entropy bonus.
    public var loss: Float
    /// Entropy of the policy's Gaussian (nats).
    public var entropy: Float
    /// Estimate of KL(π_old ‖ π): mean of (ρ − 1) − log ρ (Schulman's k3 estimator).
    public var approxKL: Float
    /// Fraction of samples whose ratio lies outside [1 − ε, 1 + ε].
    public var clipFraction: Float

    public init(loss: Float, entropy: Float, approxKL: Float, clipFraction: Float) {
        self.loss = loss
        self.entropy = entropy
        self.approxKL = approxKL
        self.clipFraction = clipFraction
    }
}

/// What one `PPO.update` did; losses and statistics are means over its minibatch updates.
public struct PPOReport {
    /// Imagined steps trained on (valid steps).
    public var samples = 0
    /// Adam steps taken (each on the policy and on the value network).
    public var minibatchUpdates = 0
    /// Clipped-surrogate loss minus the entropy bonus.
    public var policyLoss: Float = 0
    /// ½ mean squared error of the value network (scaled-return units).
    public var valueLoss: Float = 0
    /// Policy entropy (nats).
    public var entropy: Float = 0
    /// Approximate KL divergence between the policy before and after each step.
    public var approxKL: Float = 0
    /// Fraction of samples whose probability ratio was clipped.
    public var clipFraction: Float = 0
    /// Return variance explained by the value network before the update.
    public var explainedVariance: Float = 0
    /// Gradient L2 norms before clipping.
    public var policyGradNorm: Float = 0
    public var valueGradNorm: Float = 0

    public init() {}

    @usableFromInline
    mutating func finishAverages() {
        guard minibatchUpdates > 0 else { return }
        let s = 1 / Float(minibatchUpdates)
        policyLoss *= s; valueLoss *= s; entropy *= s; approxKL *= s; clipFraction *= s
        policyGradNorm *= s; valueGradNorm *= s
    }

    /// One log line: "ppo samples=4000 updates=20 policy_loss=… value_loss=… entropy=… approx_kl=…
    /// clip_frac=… explained_var=… grad_norm=…/…".
    public var summary: String {
        "ppo samples=\(samples) updates=\(minibatchUpdates) policy_loss=" + formatFloat(policyLoss, digits: 4)
            + " value_loss=" + formatFloat(valueLoss, digits: 4) + " entropy=" + formatFloat(entropy, digits: 4)
            + " approx_kl=" + formatFloat(approxKL, digits: 3) + " clip_frac=" + formatFloat(clipFraction, digits: 3)
            + " explained_var=" + formatFloat(explainedVariance, digits: 3)
            + " grad_norm=" + formatFloat(policyGradNorm, digits: 3) + "/" + formatFloat(valueGradNorm, digits: 3)
    }
}
