import EdgeCore

/// The stochastic policy π_θ(a | s): a Gaussian whose mean is an MLP of the observation (2 × 64 tanh)
/// and whose log standard deviation is one free parameter per action dimension (state-independent).
///
/// Units. The network input is the observation divided by its bound per dimension (e.g. cos θ, sin θ,
/// θ̇/8 for the pendulum). The Gaussian lives in *normalized* action units u, where the actuator range
/// [low, high] maps to [-1, 1]; the plant gets a = center + halfRange · clamp(u, -1, 1). PPO stores
/// and scores the unclipped u, so log-probabilities stay exact even when the plant saturates.
///
/// Two ways in: one sample at a time for the control loop (`act`, `mean`: no allocation, a few hundred
/// ns), and batches with samples in lanes ([features][lanes], lanes a multiple of 16, at most
/// `maxLanes`) for imagination and PPO. Not thread-safe: the control loop owns its own copy and takes
/// new weights with `copyParameters(from:)` at a step boundary.
public final class GaussianPolicy<let Obs: Int, let Act: Int> {
    public typealias MeanNetwork = MLP<Obs, 64, Act, Tanh>

    /// μ(s) in normalized action units.
    public let meanNetwork: MeanNetwork
    /// log σ per action dimension (`values[0..<Act]`) and its gradient (`grads[0..<Act]`).
    public let logStd: ParameterStore
    /// Most lanes a batched call may use.
    @inlinable public var maxLanes: Int { meanNetwork.maxLanes }

    @usableFromInline let inverseObservationBound: UnsafeMutablePointer<Float>  // [Obs]
    @usableFromInline let actionCenter: UnsafeMutablePointer<Float>             // [Act]
    @usableFromInline let actionHalfRange: UnsafeMutablePointer<Float>          // [Act]
    @usableFromInline let sampleInput: UnsafeMutablePointer<Float>              // one-sample [Obs]

    /// A policy for observations bounded by ±`observationBounds` and actions in [`actionLow`,
    /// `actionHigh`], with σ = e^`initialLogStd`, hidden weights of std `hiddenGain`/√fan-in and a
    /// near-zero initial mean (last layer scaled by `outputScale`). Allocates all memory the policy
    /// will use (batches up to `maxLanes`; 0 for a control-loop copy that only calls `act`/`mean`).
    public init(observationBounds: [Float], actionLow: [Float], actionHigh: [Float], initialLogStd: Float,
                hiddenGain: Float, outputScale: Float, maxLanes: Int, rng: inout RandomSource) {
        precondition(observationBounds.count == Obs, "need one observation bound per observation dimension")
        precondition(actionLow.count == Act && actionHigh.count == Act, "need one action bound pair per action dimension")
        meanNetwork = MeanNetwork(rng: &rng, maxLanes: maxLanes, outputScale: outputScale)
        meanNetwork.initializeHiddenLayers(gain: hiddenGain, rng: &rng)
        logStd = ParameterStore(count: Act)
        inverseObservationBound = allocateFloats(Obs)
        actionCenter = allocateFloats(Act)
        actionHalfRange = allocateFloats(Act)
        sampleInput = allocateFloats(Obs)
        for d in 0..<Obs {
            precondition(observationBounds[d] > 0, "observation bounds must be positive")
            inverseObservationBound[d] = 1 / observationBounds[d]
        }
        for d in 0..<Act {
            precondition(actionHigh[d] > actionLow[d], "action high bound must exceed the low bound")
            actionCenter[d] = (actionHigh[d] + actionLow[d]) / 2
            actionHalfRange[d] = (actionHigh[d] - actionLow[d]) / 2
            logStd.values[d] = initialLogStd
        }
    }

    deinit {
        inverseObservationBound.deallocate(); actionCenter.deallocate()
        actionHalfRange.deallocate(); sampleInput.deallocate()
    }

    /// Copies the other policy's weights and log-std (not gradients): how the learner publishes a new
    /// policy to the control loop's copy. No allocation. O(parameters).
    @inlinable
    public func copyParameters(from other: GaussianPolicy<Obs, Act>) {
        meanNetwork.parameters.copyValues(from: other.meanNetwork.parameters)
        logStd.copyValues(from: other.logStd)
    }

    /// Sets the gradients of the mean network and the log-std to zero.
    @inlinable
    public func zeroGrads() {
        meanNetwork.parameters.zeroGrads()
        logStd.zeroGrads()
    }

    // MARK: One sample (control loop)

    /// Samples an action for one observation `obs[0..<Obs]` into `action[0..<Act]`, clipped to the
    /// actuator bounds (a NaN mean gives the center action). No allocation.
    @inlinable
    public func act(_ obs: UnsafePointer<Float>, rng: inout RandomSource, into action: UnsafeMutablePointer<Float>) {
        let mu = forwardOne(obs)
        for d in 0..<Act {
            let u = mu[d] + Self.exp(logStd.values[d]) * rng.nextGaussian()
            action[d] = toPlant(u, d)
        }
    }

    /// The deterministic action (the Gaussian's mean) for one observation, clipped like `act`.
    @inlinable
    public func mean(_ obs: UnsafePointer<Float>, into action: UnsafeMutablePointer<Float>) {
        let mu = forwardOne(obs)
        for d in 0..<Act { action[d] = toPlant(mu[d], d) }
    }

    @inlinable @inline(__always)
    func forwardOne(_ obs: UnsafePointer<Float>) -> UnsafePointer<Float> {
        for d in 0..<Obs { sampleInput[d] = obs[d] * inverseObservationBound[d] }
        return meanNetwork.forward(sampleInput)
    }

    @inlinable @inline(__always)
    func toPlant(_ u: Float, _ d: Int) -> Float {
        let clipped = u.isNaN ? 0 : min(max(u, -1), 1)
        return actionCenter[d] + actionHalfRange[d] * clipped
    }

    // MARK: Batches, samples in lanes

    /// Network inputs x[Obs][lanes] = obs[Obs][lanes] / bound. O(Obs · lanes).
    @inlinable
    public func scaleObservations(_ obs: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, lanes: Int) {
        for d in 0..<Obs {
            let s = Vec(repeating: inverseObservationBound[d])
            var l = 0
            while l < lanes { storeVec(loadVec(obs, d * lanes + l) * s, x, d * lanes + l); l += vecWidth }
        }
    }

    /// μ[Act][lanes] for network inputs x[Obs][lanes], in the network's buffer (valid until its next
    /// batched call; `backward(input:meanGrad:lanes:)` uses this pass).
    @discardableResult
    @inlinable
    public func forwardMean(input x: UnsafePointer<Float>, lanes: Int) -> UnsafeMutablePointer<Float> {
        meanNetwork.forward(batch: x, lanes: lanes)
    }

    /// Adds dL/dθ of the mean network for dL/dμ[Act][lanes] (zero in unused lanes), after
    /// `forwardMean` on the same input.
    @inlinable
    public func backward(input x: UnsafePointer<Float>, meanGrad: UnsafePointer<Float>, lanes: Int) {
        meanNetwork.backward(batch: x, outputGrad: meanGrad, lanes: lanes)
    }

    /// Samples u = μ + σ ε for the first `count` lanes of network inputs x[Obs][lanes] into
    /// actions[Act][lanes] (normalized, unclipped) with log π(u | s) into logProb[lanes]; lanes from
    /// `count` on get 0. O(network · lanes).
    @inlinable
    public func sample(input x: UnsafePointer<Float>, count: Int, lanes: Int, rng: inout RandomSource,
                       actions: UnsafeMutablePointer<Float>, logProb: UnsafeMutablePointer<Float>) {
        let mu = forwardMean(input: x, lanes: lanes)
        var constant: Float = 0
        for d in 0..<Act { constant -= logStd.values[d] + DiagonalGaussian.halfLog2Pi }
        for l in 0..<lanes { logProb[l] = l < count ? constant : 0 }
        for d in 0..<Act {
            let sigma = Self.exp(logStd.values[d])
            let row = d * lanes
            for l in 0..<lanes {
                guard l < count else { actions[row + l] = 0; continue }
                let e = rng.nextGaussian()
                actions[row + l] = mu[row + l] + sigma * e
                logProb[l] -= 0.5 * e * e
            }
        }
    }

    /// Plant actions a[Act][lanes] = center + halfRange · clamp(u, -1, 1) for normalized u[Act][lanes].
    @inlinable
    public func plantActions(_ u: UnsafePointer<Float>, into a: UnsafeMutablePointer<Float>, lanes: Int) {
        for d in 0..<Act {
            let center = Vec(repeating: actionCenter[d]), half = Vec(repeating: actionHalfRange[d])
            var l = 0
            while l < lanes {
                var v = loadVec(u, d * lanes + l)
                v = v.replacing(with: 1, where: v .> 1).replacing(with: -1, where: v .< -1)
                storeVec(madd(half, v, center), a, d * lanes + l)
                l += vecWidth
            }
        }
    }

    /// log π(u | s) = Σ_d [−½((u_d − μ_d)/σ_d)² − log σ_d − ½ log 2π] per lane, for μ and u [Act][lanes],
    /// into logProb[lanes]. O(Act · lanes).
    @inlinable
    public func logProb(mean mu: UnsafePointer<Float>, actions u: UnsafePointer<Float>, lanes: Int,
                        into logProb: UnsafeMutablePointer<Float>) {
        var constant: Float = 0
        for d in 0..<Act { constant -= logStd.values[d] + DiagonalGaussian.halfLog2Pi }
        var l = 0
        while l < lanes {
            var acc = Vec(repeating: constant)
            for d in 0..<Act {
                let z = (loadVec(u, d * lanes + l) - loadVec(mu, d * lanes + l)) * Vec(repeating: Self.exp(-logStd.values[d]))
                acc = madd(Vec(repeating: -0.5), z * z, acc)
            }
            storeVec(acc, logProb, l)
            l += vecWidth
        }
    }

    /// Back-propagates g = dL/dlog π [lanes] (zero in unused lanes): writes dL/dμ = g (u − μ)/σ² into
    /// meanGrad[Act][lanes] and adds Σ_lanes g (((u − μ)/σ)² − 1) into the log-std gradients.
    @inlinable
    public func logProbBackward(mean mu: UnsafePointer<Float>, actions u: UnsafePointer<Float>,
                                logProbGrad g: UnsafePointer<Float>, lanes: Int,
                                meanGrad: UnsafeMutablePointer<Float>) {
        for d in 0..<Act {
            let invStd = Vec(repeating: Self.exp(-logStd.values[d]))
            var logStdAcc = Vec(repeating: 0)
            var l = 0
            while l < lanes {
                let gl = loadVec(g, l)
                let z = (loadVec(u, d * lanes + l) - loadVec(mu, d * lanes + l)) * invStd
                storeVec(gl * z * invStd, meanGrad, d * lanes + l)
                logStdAcc = madd(gl, z * z - Vec(repeating: 1), logStdAcc)
                l += vecWidth
            }
            logStd.grads[d] += horizontalSum(logStdAcc)
        }
    }

    /// Entropy of π(· | s), the same for every state: Σ_d (log σ_d + ½ log 2πe).
    @inlinable public var entropy: Float { DiagonalGaussian.entropy(logStd: logStd.values, count: Act) }

    /// Adds `scale` · dH/dlog σ (= `scale` for every dimension) into the log-std gradients.
    @inlinable
    public func addEntropyGradient(scale: Float) {
        for d in 0..<Act { logStd.grads[d] += scale }
    }

    /// e^x for one value through the vector kernel (no libm dependency here).
    @inlinable @inline(__always)
    static func exp(_ x: Float) -> Float { fastExp(Vec(repeating: x))[0] }
}

extension MLP {
    /// Redraws both hidden layers' weights uniformly with std `gain`/√fan-in, biases zero.
    func initializeHiddenLayers(gain: Float, rng: inout RandomSource) {
        let uniformBound = gain * 1.732_050_8  // std of U(−b, b) is b/√3
        l1.initialize(rng: &rng, scale: uniformBound)
        l2.initialize(rng: &rng, scale: uniformBound)
    }
}
