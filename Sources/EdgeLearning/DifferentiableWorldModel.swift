import EdgeCore

/// A world model that can be differentiated with respect to its INPUTS, for the pathwise-gradient
/// diagnostic (DESIGN.md section 4): one imagined step with every random choice given explicitly (the
/// ensemble member and the standard-normal noise of its Gaussian), and the vector-Jacobian product of
/// that step. Nothing here reaches a parameter store or an optimizer of the model.
///
/// This is a separate protocol from `WorldModel` on purpose: PPO and imagination only ever see
/// `WorldModel`, which has no gradients at all.
///
/// Layout: obs and nextObs [observationCount][lanes], action [actionCount][lanes], noise
/// [observationCount][lanes], reward [lanes]; lanes a multiple of 16, at most `maxLanes`.
public protocol DifferentiableWorldModel: AnyObject {
    var observationCount: Int { get }
    var actionCount: Int { get }
    var maxLanes: Int { get }
    /// Ensemble members a step may be asked to use (1 for a single model).
    var memberCount: Int { get }

    /// One step with member `member` and model noise `noise` (standard normal per observation
    /// dimension and lane): writes nextObs and reward. Keeps what `backward` needs, so it must run
    /// right before the `backward` calls that refer to it. Allocates nothing.
    func step(member: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>,
              noise: UnsafePointer<Float>, lanes: Int,
              nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>)

    /// Vector-Jacobian product of the last `step`: given dL/dnextObs [Obs][lanes] and dL/dreward
    /// [lanes] (nil: zero), OVERWRITES obsGrad [Obs][lanes] with dL/dobs and actionGrad [Act][lanes]
    /// with dL/daction. May be called several times after one `step`. Allocates nothing.
    func backward(nextObsGrad: UnsafePointer<Float>, rewardGrad: UnsafePointer<Float>?, lanes: Int,
                  obsGrad: UnsafeMutablePointer<Float>, actionGrad: UnsafeMutablePointer<Float>)
}

/// A read-only, differentiable SNAPSHOT of the learned world model: copies of the dynamics ensemble's
/// members and of the reward network, with their standardization, taken at construction. The step is
/// exactly `DynamicsEnsemble.sampleNext` for the given member and noise (next = obs + (μ̂ + σ̂ ξ) ·
/// targetStd + targetMean, clipped to the data's range ± margin) and the reward is `RewardModel.reward`.
///
/// Why copies: the batched backward pass of an `MLP` always adds parameter gradients into its store and
/// overwrites its activation buffers. Running it on copies means the diagnostic cannot change a number
/// of the agent's models (parameters, gradients, Adam moments, buffers); the copies' own parameter
/// gradients are scratch and never read. Refitting the models afterwards does not update a snapshot.
///
/// Gradients flow through the member's mean AND its predicted standard deviation (the noise is
/// reparameterized), and are zero where the clip to the data's range is active. Not thread-safe.
public final class LearnedModelSnapshot<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>:
    DifferentiableWorldModel {
    public typealias DynamicsNetwork = RegressionEnsemble<ObsAct, Obs2, GaussianNLL>.Network
    public typealias RewardNetwork = RegressionEnsemble<ObsAct, 1, SquaredError>.Network

    public let maxLanes: Int
    let members: [DynamicsNetwork]
    let rewardNetwork: RewardNetwork
    var loss: GaussianNLL
    // Standardization: dynamics inputs [ObsAct] and Δ targets [Obs]; reward inputs [ObsAct] and target [1].
    var dynamicsInMean: [Float] = [], dynamicsInvStd: [Float] = [], deltaMean: [Float] = [], deltaStd: [Float] = []
    var rewardInMean: [Float] = [], rewardInvStd: [Float] = []
    var rewardMean: Float = 0, rewardStd: Float = 1
    var clipLow: [Float] = [], clipHigh: [Float] = []
    // Scratch of the last step [rows][maxLanes].
    let dynamicsInput, rewardInput, rawOutput, preClip, noiseCopy: UnsafeMutablePointer<Float>
    let outputGrad, inputGrad: UnsafeMutablePointer<Float>
    var lastMember = -1

    /// Copies `dynamics` and `reward` (see `refresh`). Allocates everything here.
    public init(dynamics: DynamicsEnsemble<Obs, Act, ObsAct, Obs2>, reward: RewardModel<Obs, Act, ObsAct>,
                buffer: TransitionBuffer<Obs, Act>, maxLanes: Int) {
        precondition(ObsAct == Obs + Act && Obs2 == 2 * Obs, "snapshot shapes: ObsAct = Obs + Act, Obs2 = 2 Obs")
        precondition(maxLanes > 0 && maxLanes % laneBlock == 0, "maxLanes must be a positive multiple of 16")
        self.maxLanes = maxLanes
        var rng = RandomSource(seed: 0)  // initial weights are overwritten by the copies
        members = dynamics.networks.members.map { _ in DynamicsNetwork(rng: &rng, maxLanes: maxLanes) }
        rewardNetwork = RewardNetwork(rng: &rng, maxLanes: maxLanes)
        loss = dynamics.networks.loss
        dynamicsInput = allocateFloats(ObsAct * maxLanes)
        rewardInput = allocateFloats(ObsAct * maxLanes)
        rawOutput = allocateFloats(Obs2 * maxLanes)
        preClip = allocateFloats(Obs * maxLanes)
        noiseCopy = allocateFloats(Obs * maxLanes)
        outputGrad = allocateFloats(Obs2 * maxLanes)
        inputGrad = allocateFloats(ObsAct * maxLanes)
        refresh(dynamics: dynamics, reward: reward, buffer: buffer)
    }

    /// Copies the current weights and standardization of `dynamics` (same member count as at init) and
    /// `reward` again, e.g. after a refit. The imagined-state clip is the one `dynamics.fit(buffer:)`
    /// sets: the observation range of `buffer` widened by `imaginedStateMargin` on each side (none if
    /// the margin is negative). Allocates only the small statistics arrays.
    public func refresh(dynamics: DynamicsEnsemble<Obs, Act, ObsAct, Obs2>, reward: RewardModel<Obs, Act, ObsAct>,
                        buffer: TransitionBuffer<Obs, Act>) {
        precondition(dynamics.memberCount == members.count, "the ensemble's member count changed")
        for (copy, source) in zip(members, dynamics.networks.members) { copy.parameters.copyValues(from: source.parameters) }
        rewardNetwork.parameters.copyValues(from: reward.networks.members[0].parameters)
        loss = dynamics.networks.loss
        let d = dynamics.networks, r = reward.networks
        dynamicsInMean = (0..<ObsAct).map { d.inputMean[$0] }
        dynamicsInvStd = (0..<ObsAct).map { 1 / d.inputStd[$0] }
        deltaMean = (0..<Obs).map { d.targetMean[$0] }
        deltaStd = (0..<Obs).map { d.targetStd[$0] }
        rewardInMean = (0..<ObsAct).map { r.inputMean[$0] }
        rewardInvStd = (0..<ObsAct).map { 1 / r.inputStd[$0] }
        rewardMean = r.targetMean[0]
        rewardStd = r.targetStd[0]
        let margin = dynamics.hyperparameters.imaginedStateMargin
        if margin >= 0 && buffer.count > 0 {
            clipLow = (0..<Obs).map { k in
                buffer.observationLow(k) - margin * (buffer.observationHigh(k) - buffer.observationLow(k))
            }
            clipHigh = (0..<Obs).map { k in
                buffer.observationHigh(k) + margin * (buffer.observationHigh(k) - buffer.observationLow(k))
            }
        } else {
            clipLow = [Float](repeating: -.infinity, count: Obs)
            clipHigh = [Float](repeating: .infinity, count: Obs)
        }
    }

    deinit {
        for p in [dynamicsInput, rewardInput, rawOutput, preClip, noiseCopy, outputGrad, inputGrad] { p.deallocate() }
    }

    public var observationCount: Int { Obs }
    public var actionCount: Int { Act }
    public var memberCount: Int { members.count }

    public func step(member: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>,
                     noise: UnsafePointer<Float>, lanes: Int,
                     nextObs: UnsafeMutablePointer<Float>, reward: UnsafeMutablePointer<Float>) {
        precondition(lanes > 0 && lanes % laneBlock == 0 && lanes <= maxLanes,
                     "lanes must be a positive multiple of 16, at most maxLanes")
        precondition(member >= 0 && member < members.count, "no such ensemble member")
        lastMember = member
        Self.standardize(obs: obs, action: action, mean: dynamicsInMean, invStd: dynamicsInvStd, lanes: lanes,
                         into: dynamicsInput)
        Self.standardize(obs: obs, action: action, mean: rewardInMean, invStd: rewardInvStd, lanes: lanes,
                         into: rewardInput)
        rawOutput.update(from: members[member].forward(batch: dynamicsInput, lanes: lanes), count: Obs2 * lanes)
        noiseCopy.update(from: noise, count: Obs * lanes)
        let half = Vec(repeating: 0.5)
        for k in 0..<Obs {
            let scale = Vec(repeating: deltaStd[k]), offset = Vec(repeating: deltaMean[k])
            let low = Vec(repeating: clipLow[k]), high = Vec(repeating: clipHigh[k])
            var l = 0
            while l < lanes {
                let sigma = fastExp(half * loss.boundedLogVariance(loadVec(rawOutput, (Obs + k) * lanes + l)))
                let change = madd(madd(sigma, loadVec(noise, k * lanes + l), loadVec(rawOutput, k * lanes + l)),
                                  scale, offset)
                let next = loadVec(obs, k * lanes + l) + change
                storeVec(next, preClip, k * lanes + l)
                storeVec(next.replacing(with: low, where: next .< low).replacing(with: high, where: next .> high),
                         nextObs, k * lanes + l)
                l += vecWidth
            }
        }
        let y = rewardNetwork.forward(batch: rewardInput, lanes: lanes)
        let scale = Vec(repeating: rewardStd), offset = Vec(repeating: rewardMean)
        var l = 0
        while l < lanes { storeVec(madd(loadVec(y, l), scale, offset), reward, l); l += vecWidth }
    }

    public func backward(nextObsGrad: UnsafePointer<Float>, rewardGrad: UnsafePointer<Float>?, lanes: Int,
                         obsGrad: UnsafeMutablePointer<Float>, actionGrad: UnsafeMutablePointer<Float>) {
        precondition(lastMember >= 0, "backward needs a step first")
        let lo = Vec(repeating: loss.minLogVariance), hi = Vec(repeating: loss.maxLogVariance)
        let half = Vec(repeating: 0.5), zero = Vec(repeating: 0)
        // Through the clip and the reparameterized Gaussian: next = obs + (μ + σ ξ) · s + m, σ = e^{v/2},
        // v = lo + softplus(hi − softplus(hi − raw) − lo), dv/draw = sigmoid(hi − raw) · sigmoid(v1 − lo).
        for k in 0..<Obs {
            let scale = Vec(repeating: deltaStd[k])
            let low = Vec(repeating: clipLow[k]), high = Vec(repeating: clipHigh[k])
            var l = 0
            while l < lanes {
                let at = k * lanes + l
                let pre = loadVec(preClip, at)
                let g = loadVec(nextObsGrad, at).replacing(with: zero, where: (pre .< low) .| (pre .> high))
                storeVec(g, obsGrad, at)
                let gChange = g * scale
                let raw = loadVec(rawOutput, (Obs + k) * lanes + l)
                let v1 = hi - softplus(hi - raw)
                let sigma = fastExp(half * (lo + softplus(v1 - lo)))
                let gSigma = gChange * loadVec(noiseCopy, at)
                let gRaw = gSigma * sigma * half * fastSigmoid(hi - raw) * fastSigmoid(v1 - lo)
                storeVec(gChange, outputGrad, at)
                storeVec(gRaw, outputGrad, (Obs + k) * lanes + l)
                l += vecWidth
            }
        }
        members[lastMember].backward(batch: dynamicsInput, outputGrad: outputGrad, lanes: lanes, inputGrad: inputGrad)
        for i in 0..<ObsAct {
            let s = Vec(repeating: dynamicsInvStd[i])
            let target = i < Obs ? obsGrad + i * lanes : actionGrad + (i - Obs) * lanes
            var l = 0
            while l < lanes {
                let fromInput = loadVec(inputGrad, i * lanes + l) * s
                storeVec(i < Obs ? loadVec(target, l) + fromInput : fromInput, target, l)
                l += vecWidth
            }
        }
        guard let rewardGrad else { return }
        let scale = Vec(repeating: rewardStd)
        var l = 0
        while l < lanes { storeVec(loadVec(rewardGrad, l) * scale, outputGrad, l); l += vecWidth }
        rewardNetwork.backward(batch: rewardInput, outputGrad: outputGrad, lanes: lanes, inputGrad: inputGrad)
        for i in 0..<ObsAct {
            let s = Vec(repeating: rewardInvStd[i])
            let target = i < Obs ? obsGrad + i * lanes : actionGrad + (i - Obs) * lanes
            l = 0
            while l < lanes {
                storeVec(madd(loadVec(inputGrad, i * lanes + l), s, loadVec(target, l)), target, l)
                l += vecWidth
            }
        }
    }

    /// x[ObsAct][lanes] = ((obs; action) − mean) / std.
    static func standardize(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, mean: [Float], invStd: [Float],
                            lanes: Int, into x: UnsafeMutablePointer<Float>) {
        for i in 0..<ObsAct {
            let src = i < Obs ? obs + i * lanes : action + (i - Obs) * lanes
            let m = Vec(repeating: mean[i]), s = Vec(repeating: invStd[i])
            var l = 0
            while l < lanes { storeVec((loadVec(src, l) - m) * s, x, i * lanes + l); l += vecWidth }
        }
    }
}
