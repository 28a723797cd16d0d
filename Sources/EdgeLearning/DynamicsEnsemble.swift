import EdgeCore

/// The dynamics model f_psi: an ensemble of probabilistic networks `MLP<ObsAct, 64, Obs2, SiLU>`
/// (DESIGN.md section 4). Each member maps the standardized (obs, action) to a Gaussian over the
/// standardized state change Δ = nextObs − obs: a mean and a soft-bounded log-variance per
/// observation dimension, trained by Gaussian NLL (`GaussianNLL`) with the shared early-stopped
/// fitting of `RegressionEnsemble`. The next observation is obs + Δ.
///
/// Swift cannot derive sizes from value generics, so ObsAct (= Obs + Act) and Obs2 (= 2 · Obs) are
/// parameters checked at init, e.g. `DynamicsEnsemble<3, 1, 4, 6>` for the pendulum.
///
/// Batched functions take obs[Obs][lanes] and action[Act][lanes] with `lanes` a multiple of 16 and at
/// most `maxLanes`; they allocate nothing. Not thread-safe (one learner thread).
public final class DynamicsEnsemble<let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int> {
    public typealias Networks = RegressionEnsemble<ObsAct, Obs2, GaussianNLL>

    /// The members, their optimizers and the standardization (for checkpoints and diagnostics).
    public let networks: Networks
    public let hyperparameters: ModelHyperparameters
    /// Largest lane count of one call.
    public var maxLanes: Int { networks.maxLanes }
    /// Number of ensemble members.
    public var memberCount: Int { networks.members.count }

    let input: UnsafeMutablePointer<Float>  // [ObsAct][maxLanes], standardized
    let means: UnsafeMutablePointer<Float>  // [members][Obs][lanes], standardized Δ mean
    let stds: UnsafeMutablePointer<Float>   // [members][Obs][lanes], standardized Δ standard deviation
    let clipLow, clipHigh: UnsafeMutablePointer<Float>  // [Obs], imagined-state bounds (±∞ = none)

    /// A fresh ensemble of `hyperparameters.ensembleSize` members.
    public init(hyperparameters: ModelHyperparameters = ModelHyperparameters(), rng: inout RandomSource) {
        precondition(ObsAct == Obs + Act, "DynamicsEnsemble: ObsAct must be Obs + Act")
        precondition(Obs2 == 2 * Obs, "DynamicsEnsemble: Obs2 must be 2 * Obs")
        self.hyperparameters = hyperparameters
        networks = Networks(count: hyperparameters.ensembleSize,
                            loss: GaussianNLL(minLogVariance: hyperparameters.minLogVariance,
                                              maxLogVariance: hyperparameters.maxLogVariance),
                            settings: hyperparameters.dynamicsFit, maxLanes: hyperparameters.maxLanes, rng: &rng)
        let lanes = hyperparameters.maxLanes, k = hyperparameters.ensembleSize
        input = allocateFloats(ObsAct * lanes)
        means = allocateFloats(k * Obs * lanes)
        stds = allocateFloats(k * Obs * lanes)
        clipLow = allocateFloats(Obs); clipHigh = allocateFloats(Obs)
        clipLow.update(repeating: -.infinity, count: Obs)
        clipHigh.update(repeating: .infinity, count: Obs)
    }

    deinit { for p in [input, means, stds, clipLow, clipHigh] { p.deallocate() } }

    /// Refits every member on all transitions in `buffer` (its train/holdout split), starting from the
    /// current weights, and sets the imagined-state bounds to the buffer's observation range widened by
    /// `imaginedStateMargin`. Allocates (outside the control step). O(members · steps · batch).
    public func fit(buffer: TransitionBuffer<Obs, Act>, rng: inout RandomSource) -> FitReport {
        let n = buffer.count
        let rows = networks.rawRows(count: n)
        buffer.copyObservationActionRows(into: rows.inputs)
        for r in 0..<n {
            for d in 0..<Obs { rows.targets[r * Obs + d] = buffer.nextObservation(r, d) - buffer.observation(r, d) }
        }
        let margin = hyperparameters.imaginedStateMargin
        if margin >= 0 {
            for d in 0..<Obs {
                let low = buffer.observationLow(d), high = buffer.observationHigh(d)
                clipLow[d] = low - margin * (high - low)
                clipHigh[d] = high + margin * (high - low)
            }
        }
        return networks.fit(train: buffer.trainRows, trainCount: buffer.trainCount, holdout: buffer.holdoutRows,
                            holdoutCount: buffer.holdoutCount, rng: &rng)
    }

    // MARK: Forward only

    /// Member `member`'s Gaussian over the next observation, in raw units: mean obs + Δ̂ and standard
    /// deviation, each [Obs][lanes]. O(network · lanes), allocates nothing.
    public func predict(member: Int, obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                        nextObsMean: UnsafeMutablePointer<Float>, nextObsStd: UnsafeMutablePointer<Float>) {
        checkLanes(lanes)
        precondition(member >= 0 && member < memberCount, "no such ensemble member")
        networks.standardizeInputs(first: obs, rows: Obs, second: action, lanes: lanes, into: input)
        runMember(member, lanes: lanes)
        for d in 0..<Obs {
            let scale = Vec(repeating: networks.targetStd[d]), offset = Vec(repeating: networks.targetMean[d])
            let mu = means + (member * Obs + d) * lanes, sigma = stds + (member * Obs + d) * lanes
            var l = 0
            while l < lanes {
                let at = d * lanes + l
                storeVec(loadVec(obs, at) + madd(loadVec(mu, l), scale, offset), nextObsMean, at)
                storeVec(loadVec(sigma, l) * scale, nextObsStd, at)
                l += vecWidth
            }
        }
    }

    /// Ensemble disagreement per lane: the standard deviation across members of the predicted mean
    /// state change, root-mean-squared over the observation dimensions, in units of the data's
    /// state-change standard deviation (so one threshold fits every rig). 0 for one member.
    public func disagreement(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                             into disagreement: UnsafeMutablePointer<Float>) {
        checkLanes(lanes)
        networks.standardizeInputs(first: obs, rows: Obs, second: action, lanes: lanes, into: input)
        for m in 0..<memberCount { runMember(m, lanes: lanes) }
        writeDisagreement(lanes: lanes, into: disagreement)
    }

    /// Samples a next observation per lane: a member drawn uniformly for each lane, then a draw from that
    /// member's Gaussian, clipped to the fitted data's range ± `imaginedStateMargin`. Writes
    /// nextObs[Obs][lanes] and, if given, the disagreement per lane (as `disagreement(...)`). Every
    /// member runs on every lane (the disagreement needs them all). Allocates nothing.
    public func sampleNext(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                           rng: inout RandomSource, into nextObs: UnsafeMutablePointer<Float>,
                           disagreement: UnsafeMutablePointer<Float>? = nil) {
        checkLanes(lanes)
        networks.standardizeInputs(first: obs, rows: Obs, second: action, lanes: lanes, into: input)
        for m in 0..<memberCount { runMember(m, lanes: lanes) }
        if let disagreement { writeDisagreement(lanes: lanes, into: disagreement) }
        for l in 0..<lanes {
            let m = rng.nextInt(below: memberCount)
            for d in 0..<Obs {
                let at = (m * Obs + d) * lanes + l
                let change = (means[at] + stds[at] * rng.nextGaussian()) * networks.targetStd[d] + networks.targetMean[d]
                nextObs[d * lanes + l] = min(max(obs[d * lanes + l] + change, clipLow[d]), clipHigh[d])
            }
        }
    }

    /// Runs member m on `input`, writing its standardized mean and standard deviation of Δ.
    func runMember(_ m: Int, lanes: Int) {
        let y = networks.members[m].forward(batch: input, lanes: lanes)
        let loss = networks.loss, half = Vec(repeating: 0.5)
        for d in 0..<Obs {
            let mu = means + (m * Obs + d) * lanes, sigma = stds + (m * Obs + d) * lanes
            var l = 0
            while l < lanes {
                storeVec(loadVec(y, d * lanes + l), mu, l)
                storeVec(fastExp(half * loss.boundedLogVariance(loadVec(y, (Obs + d) * lanes + l))), sigma, l)
                l += vecWidth
            }
        }
    }

    /// √(mean over d of the across-member variance of the means) per lane, from `means`.
    func writeDisagreement(lanes: Int, into out: UnsafeMutablePointer<Float>) {
        let k = memberCount
        let invK = Vec(repeating: 1 / Float(k)), invObs = Vec(repeating: 1 / Float(Obs))
        var l = 0
        while l < lanes {
            var total = Vec(repeating: 0)
            for d in 0..<Obs {  // two passes: the spread is small next to the means
                var sum = Vec(repeating: 0)
                for m in 0..<k { sum += loadVec(means, (m * Obs + d) * lanes + l) }
                let mean = sum * invK
                for m in 0..<k {
                    let e = loadVec(means, (m * Obs + d) * lanes + l) - mean
                    total = madd(e, e * invK, total)
                }
            }
            storeVec((total * invObs).squareRoot(), out, l)
            l += vecWidth
        }
    }

    func checkLanes(_ lanes: Int) {
        precondition(lanes > 0 && lanes % laneBlock == 0 && lanes <= maxLanes,
                     "lanes must be a positive multiple of 16, at most maxLanes")
    }
}
