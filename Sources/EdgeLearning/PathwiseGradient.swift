import CEdgeSys
import EdgeCore

/// Two estimators of the gradient of the imagined return with respect to the policy parameters θ (the
/// mean network's weights and the log-std), from the same batch of imagined rollouts:
///
///     J = (1/n) Σ_lanes Σ_{t<H} γ^t r(s_t, a_t),   a_t = c + h · clamp(u_t, −1, 1),   u_t = μθ(s_t) + σ ε_t
///     s_{t+1} = clip(s_t + (μ̂_k(s_t, a_t) + σ̂_k(s_t, a_t) ξ_t) · std + mean)
///
/// - pathwise (reparameterization, backpropagation through time): ε and ξ are fixed noise, so J is a
///   differentiable function of θ; its gradient flows back through the reward model, the dynamics
///   member's mean and standard deviation, and the policy at every step (`pathwiseGradient`).
/// - likelihood ratio (REINFORCE): Σ_t ∇θ log π(u_t | s_t) (G_t − b_t) with G_t = Σ_{t'≥t} γ^{t'} r_{t'}
///   and the leave-one-out baseline b_t = the mean G_t of the batch's other rollouts
///   (`likelihoodRatioGradient`). It never differentiates the model.
///
/// The ensemble member k_t is drawn uniformly once per step and shared by every rollout of the batch
/// (each rollout still sees an independent uniform member per step, as in imagination, but one member
/// runs per step instead of all of them). Both estimators are unbiased for the same ∇θ E[J]; neither
/// changes the policy (they write into its gradient buffers, which the caller reads).
///
/// The policy is this object's own copy (`copyPolicy(from:)`), so the agent's networks and buffers are
/// untouched. Memory for `maxHorizon` steps of `maxLanes` rollouts is allocated in `init`; rollouts and
/// gradients allocate nothing. Not thread-safe.
public final class ImaginedReturnGradient<World: DifferentiableWorldModel, let Obs: Int, let Act: Int> {
    public let world: World
    /// The policy differentiated: a private copy with its own buffers and gradients.
    public let policy: GaussianPolicy<Obs, Act>
    public let maxHorizon: Int
    public let maxLanes: Int
    /// Discount γ of the imagined return.
    public var gamma: Float

    /// Rollouts and steps of the last `rollout`.
    public private(set) var count = 0
    public private(set) var lanes = 0
    public private(set) var horizon = 0

    let inverseBound, center, halfRange: [Float]
    /// Per step: states [H + 1][Obs][lanes], policy noise ε and samples u [H][Act][lanes], plant actions
    /// [H][Act][lanes], model noise ξ [H][Obs][lanes], rewards [H][lanes], members [H].
    let states, policyNoise, samples, actions, modelNoise, rewards: UnsafeMutablePointer<Float>
    let members: UnsafeMutablePointer<Int>
    // Scratch [rows][maxLanes].
    let input, inputGrad, adjoint, obsGrad, actionGrad, meanGrad: UnsafeMutablePointer<Float>
    let rewardGrad, nextScratch, rewardScratch: UnsafeMutablePointer<Float>
    let returnsToGo: UnsafeMutablePointer<Double>      // [H][lanes]
    let actionJacobian: UnsafeMutablePointer<Double>   // [lanes][Obs][Act]: ∂s_{t+1}/∂a_t

    /// - Parameters:
    ///   - observationBounds, actionLow, actionHigh: the policy's scaling, as the agent's policy was built.
    public init(world: World, observationBounds: [Float], actionLow: [Float], actionHigh: [Float],
                maxHorizon: Int, maxLanes: Int, gamma: Float) {
        precondition(world.observationCount == Obs && world.actionCount == Act, "world and policy sizes differ")
        precondition(maxHorizon > 0 && maxLanes > 0 && maxLanes % laneBlock == 0 && maxLanes <= world.maxLanes,
                     "maxHorizon must be positive, maxLanes a multiple of 16 within the world's maxLanes")
        precondition(observationBounds.count == Obs && actionLow.count == Act && actionHigh.count == Act,
                     "one bound per observation and action dimension")
        self.world = world
        self.maxHorizon = maxHorizon
        self.maxLanes = maxLanes
        self.gamma = gamma
        var rng = RandomSource(seed: 0)  // weights are replaced by copyPolicy(from:)
        policy = GaussianPolicy(observationBounds: observationBounds, actionLow: actionLow, actionHigh: actionHigh,
                                initialLogStd: 0, hiddenGain: 1, outputScale: 1, maxLanes: maxLanes, rng: &rng)
        inverseBound = observationBounds.map { 1 / $0 }
        center = (0..<Act).map { (actionHigh[$0] + actionLow[$0]) / 2 }
        halfRange = (0..<Act).map { (actionHigh[$0] - actionLow[$0]) / 2 }
        let n = maxLanes, h = maxHorizon
        states = allocateFloats((h + 1) * Obs * n)
        policyNoise = allocateFloats(h * Act * n); samples = allocateFloats(h * Act * n)
        actions = allocateFloats(h * Act * n)
        modelNoise = allocateFloats(h * Obs * n)
        rewards = allocateFloats(h * n)
        members = .allocate(capacity: h)
        members.initialize(repeating: 0, count: h)
        input = allocateFloats(Obs * n); inputGrad = allocateFloats(Obs * n)
        adjoint = allocateFloats(Obs * n); obsGrad = allocateFloats(Obs * n)
        actionGrad = allocateFloats(Act * n); meanGrad = allocateFloats(Act * n); rewardGrad = allocateFloats(n)
        nextScratch = allocateFloats(Obs * n); rewardScratch = allocateFloats(n)
        returnsToGo = .allocate(capacity: h * n)
        returnsToGo.initialize(repeating: 0, count: h * n)
        actionJacobian = .allocate(capacity: n * Obs * Act)
        actionJacobian.initialize(repeating: 0, count: n * Obs * Act)
    }

    deinit {
        for p in [states, policyNoise, samples, actions, modelNoise, rewards, input, inputGrad, adjoint, obsGrad,
                  actionGrad, meanGrad, rewardGrad, nextScratch, rewardScratch] { p.deallocate() }
        members.deallocate(); returnsToGo.deallocate(); actionJacobian.deallocate()
    }

    /// Makes the differentiated policy a copy of `source` (weights and log-std).
    public func copyPolicy(from source: GaussianPolicy<Obs, Act>) {
        policy.copyParameters(from: source)
    }

    /// Number of entries of a gradient vector: the mean network's parameter store (padding entries are
    /// always 0) followed by the Act log-std entries.
    public var parameterCount: Int { policy.meanNetwork.parameters.count + Act }

    /// Start states of the next rollout: [Obs][lanes] with lanes = `count` rounded up to 16. Fill the
    /// first `count` lanes; the rest are zeroed by `rollout`.
    public var startStates: UnsafeMutablePointer<Float> { states }

    /// The states at step t (0...horizon) of the last rollout, [Obs][lanes].
    public func observations(step t: Int) -> UnsafePointer<Float> {
        precondition(t >= 0 && t <= horizon, "no such step in the last rollout")
        return UnsafePointer(states + t * Obs * lanes)
    }

    // MARK: Forward

    /// Runs `count` rollouts of `horizon` steps from `startStates`, drawing all noise from `rng` (a copy
    /// of the same `rng` replays the same noise for any θ). Returns J (accumulated in Double).
    /// O(horizon · (policy + world) · lanes), no allocation.
    @discardableResult
    public func rollout(count n: Int, horizon h: Int, rng: inout RandomSource) -> Double {
        precondition(n > 0 && h > 0 && h <= maxHorizon && paddedToLanes(n) <= maxLanes,
                     "rollout larger than this gradient estimator was sized for")
        count = n; horizon = h
        let lanes = paddedToLanes(n)
        self.lanes = lanes
        for k in 0..<Obs { for l in n..<lanes { states[k * lanes + l] = 0 } }
        var total: Double = 0
        for t in 0..<h {
            let s = states + t * Obs * lanes
            let eps = policyNoise + t * Act * lanes, u = samples + t * Act * lanes, a = actions + t * Act * lanes
            let xi = modelNoise + t * Obs * lanes
            members[t] = rng.nextInt(below: world.memberCount)
            for i in 0..<(Act * lanes) { eps[i] = rng.nextGaussian() }
            for i in 0..<(Obs * lanes) { xi[i] = rng.nextGaussian() }
            scale(s, into: input, lanes: lanes)
            let mu = policy.forwardMean(input: input, lanes: lanes)
            for j in 0..<Act {
                let sigma = Self.exp(policy.logStd.values[j])
                for l in 0..<lanes {
                    let i = j * lanes + l
                    u[i] = mu[i] + sigma * eps[i]
                    a[i] = center[j] + halfRange[j] * min(max(u[i], -1), 1)
                }
            }
            let r = rewards + t * lanes
            world.step(member: members[t], obs: s, action: a, noise: xi, lanes: lanes,
                       nextObs: s + Obs * lanes, reward: r)
            var stepSum: Double = 0
            for l in 0..<n { stepSum += Double(r[l]) }
            total += pow(Double(gamma), Double(t)) * stepSum
        }
        return total / Double(n)
    }

    // MARK: Pathwise

    /// ∇θ J of the last rollout by backpropagation through time, into `gradient[0..<parameterCount]`
    /// (and the policy's gradient buffers). Each step re-runs the world and policy forward on the stored
    /// inputs before its backward pass. O(horizon · (policy + world) · lanes), no allocation.
    ///
    /// - Parameter terminalStateGradient: dJ'/ds_H [Obs][lanes] of a term the caller adds to J at the
    ///   last state (e.g. a value bootstrap γ^H V(s_H) / n, `HybridPolicyOptimizer`); the result is then
    ///   ∇θ (J + that term). nil: the term is zero. Padding lanes must be zero.
    public func pathwiseGradient(into gradient: UnsafeMutablePointer<Double>,
                                 terminalStateGradient: UnsafePointer<Float>? = nil) {
        precondition(horizon > 0, "pathwiseGradient needs a rollout first")
        let n = count, lanes = self.lanes
        policy.zeroGrads()
        if let terminalStateGradient {  // dJ/ds_H
            adjoint.update(from: terminalStateGradient, count: Obs * lanes)
        } else {
            adjoint.update(repeating: 0, count: Obs * lanes)
        }
        for t in stride(from: horizon - 1, through: 0, by: -1) {
            let discount = pow(Double(gamma), Double(t))
            let s = states + t * Obs * lanes
            let eps = policyNoise + t * Act * lanes, u = samples + t * Act * lanes, a = actions + t * Act * lanes
            let weight = Float(discount / Double(n))
            for l in 0..<lanes { rewardGrad[l] = l < n ? weight : 0 }
            world.step(member: members[t], obs: s, action: a, noise: modelNoise + t * Obs * lanes, lanes: lanes,
                       nextObs: nextScratch, reward: rewardScratch)
            world.backward(nextObsGrad: adjoint, rewardGrad: rewardGrad, lanes: lanes, obsGrad: obsGrad,
                           actionGrad: actionGrad)
            // a = c + h clamp(u): du = h da where |u| < 1; u = μ + σ ε: dμ = du, dlog σ = Σ du σ ε.
            for j in 0..<Act {
                let sigma = Self.exp(policy.logStd.values[j])
                var logStdSum: Double = 0
                for l in 0..<lanes {
                    let i = j * lanes + l
                    let du = abs(u[i]) < 1 ? halfRange[j] * actionGrad[i] : 0
                    meanGrad[i] = du
                    logStdSum += Double(du * sigma * eps[i])
                }
                policy.logStd.grads[j] += Float(logStdSum)
            }
            scale(s, into: input, lanes: lanes)
            policy.forwardMean(input: input, lanes: lanes)
            policy.meanNetwork.backward(batch: input, outputGrad: meanGrad, lanes: lanes, inputGrad: inputGrad)
            for k in 0..<Obs {  // dJ/ds_t = world part + policy part (x = s / bound)
                for l in 0..<lanes {
                    adjoint[k * lanes + l] = obsGrad[k * lanes + l] + inputGrad[k * lanes + l] * inverseBound[k]
                }
            }
        }
        copyGradient(into: gradient)
    }

    // MARK: Likelihood ratio

    /// Σ_t ∇θ log π(u_t | s_t) (G_t − b_t) / n of the last rollout into `gradient[0..<parameterCount]`,
    /// with G_t the discounted reward-to-go (discounted from step 0) and b_t the mean G_t of the other
    /// rollouts in the batch (independent of lane l's action, so the estimator stays unbiased). Needs
    /// at least 2 rollouts. ∇μ log π = ε / σ and ∇log σ log π = ε² − 1 per action dimension.
    /// O(horizon · policy · lanes), no allocation.
    public func likelihoodRatioGradient(into gradient: UnsafeMutablePointer<Double>) {
        precondition(horizon > 0 && count >= 2, "likelihoodRatioGradient needs a rollout of at least 2 lanes")
        let n = count, lanes = self.lanes
        policy.zeroGrads()
        for t in stride(from: horizon - 1, through: 0, by: -1) {
            let discount = pow(Double(gamma), Double(t))
            let g = returnsToGo + t * lanes, r = rewards + t * lanes
            for l in 0..<n { g[l] = discount * Double(r[l]) + (t + 1 < horizon ? g[l + lanes] : 0) }
        }
        for t in 0..<horizon {
            let g = returnsToGo + t * lanes, eps = policyNoise + t * Act * lanes
            var sum: Double = 0
            for l in 0..<n { sum += g[l] }
            for j in 0..<Act {
                let sigma = Self.exp(policy.logStd.values[j])
                var logStdSum: Double = 0
                for l in 0..<lanes {
                    let i = j * lanes + l
                    guard l < n else { meanGrad[i] = 0; continue }
                    let advantage = (g[l] - (sum - g[l]) / Double(n - 1)) / Double(n)
                    meanGrad[i] = Float(advantage) * eps[i] / sigma
                    logStdSum += advantage * Double(eps[i] * eps[i] - 1)
                }
                policy.logStd.grads[j] += Float(logStdSum)
            }
            scale(states + t * Obs * lanes, into: input, lanes: lanes)
            policy.forwardMean(input: input, lanes: lanes)
            policy.meanNetwork.backward(batch: input, outputGrad: meanGrad, lanes: lanes)
        }
        copyGradient(into: gradient)
    }

    // MARK: State Jacobians

    /// The Jacobians of step t of the last rollout with respect to the state, per lane, in Double,
    /// row-major [lanes][Obs][Obs]: open-loop ∂s_{t+1}/∂s_t with the action held fixed, and closed-loop
    /// ∂s_{t+1}/∂s_t + ∂s_{t+1}/∂a_t · ∂a_t/∂s_t through the policy mean (noise fixed; zero where the
    /// action clamp is active). Costs Obs + Act backward passes. Leaves junk in the policy's gradients.
    public func stateJacobians(step t: Int, open: UnsafeMutablePointer<Double>, closed: UnsafeMutablePointer<Double>) {
        precondition(t >= 0 && t < horizon, "no such step in the last rollout")
        let lanes = self.lanes
        let s = states + t * Obs * lanes, u = samples + t * Act * lanes
        world.step(member: members[t], obs: s, action: actions + t * Act * lanes,
                   noise: modelNoise + t * Obs * lanes, lanes: lanes, nextObs: nextScratch, reward: rewardScratch)
        // Row i of ∂s'/∂s and of ∂s'/∂a: one vector-Jacobian product per output dimension.
        for i in 0..<Obs {
            for k in 0..<Obs { for l in 0..<lanes { adjoint[k * lanes + l] = k == i ? 1 : 0 } }
            world.backward(nextObsGrad: adjoint, rewardGrad: nil, lanes: lanes, obsGrad: obsGrad,
                           actionGrad: actionGrad)
            for l in 0..<lanes {
                for k in 0..<Obs { open[(l * Obs + i) * Obs + k] = Double(obsGrad[k * lanes + l]) }
                for j in 0..<Act { actionJacobian[(l * Obs + i) * Act + j] = Double(actionGrad[j * lanes + l]) }
            }
        }
        closed.update(from: open, count: lanes * Obs * Obs)
        // Row j of ∂a/∂s = h_j [|u_j| < 1] ∂μ_j/∂x / bound: one backward pass through the policy per action.
        scale(s, into: input, lanes: lanes)
        policy.forwardMean(input: input, lanes: lanes)
        for j in 0..<Act {
            for m in 0..<Act { for l in 0..<lanes { meanGrad[m * lanes + l] = m == j ? 1 : 0 } }
            policy.meanNetwork.backward(batch: input, outputGrad: meanGrad, lanes: lanes, inputGrad: inputGrad)
            for l in 0..<lanes {
                let active: Float = abs(u[j * lanes + l]) < 1 ? halfRange[j] : 0
                for i in 0..<Obs {
                    let dsda = actionJacobian[(l * Obs + i) * Act + j]
                    for k in 0..<Obs {
                        let dads = Double(active * inputGrad[k * lanes + l] * inverseBound[k])
                        closed[(l * Obs + i) * Obs + k] += dsda * dads
                    }
                }
            }
        }
    }

    // MARK: Helpers

    /// x = s / bound per observation dimension.
    func scale(_ s: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, lanes: Int) {
        for k in 0..<Obs {
            let b = Vec(repeating: inverseBound[k])
            var l = 0
            while l < lanes { storeVec(loadVec(s, k * lanes + l) * b, x, k * lanes + l); l += vecWidth }
        }
    }

    func copyGradient(into gradient: UnsafeMutablePointer<Double>) {
        let store = policy.meanNetwork.parameters
        for i in 0..<store.count { gradient[i] = Double(store.grads[i]) }
        for j in 0..<Act { gradient[store.count + j] = Double(policy.logStd.grads[j]) }
    }

    /// e^x for one value through the vector kernel (no libm dependency here).
    static func exp(_ x: Float) -> Float { fastExp(Vec(repeating: x))[0] }
}
