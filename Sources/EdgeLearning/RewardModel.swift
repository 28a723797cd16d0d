import EdgeCore

/// A reward r(s, a) evaluated for a batch: obs[Obs][lanes] and action[Act][lanes] in, reward[lanes] out
/// (lanes a multiple of 16). The learned `RewardModel` conforms; a rig whose reward is known (e.g. the
/// pendulum's −(θ² + 0.1 θ̇² + 0.001 u²)) supplies its own conforming type instead. Implementations
/// must not allocate.
public protocol RewardFunction {
    func reward(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                into reward: UnsafeMutablePointer<Float>)
}

/// The reward model r_phi: `MLP<ObsAct, 64, 1, SiLU>` on standardized (obs, action), regressing the
/// standardized observed reward by mean squared error, fitted with the same early-stopped machinery
/// as the dynamics (`RegressionEnsemble`, one member, `hyperparameters.rewardFit`).
///
/// ObsAct must equal Obs + Act (checked at init). Not thread-safe.
public final class RewardModel<let Obs: Int, let Act: Int, let ObsAct: Int>: RewardFunction {
    public typealias Networks = RegressionEnsemble<ObsAct, 1, SquaredError>

    /// The network, its optimizer and the standardization (for checkpoints and diagnostics).
    public let networks: Networks
    /// Largest lane count of one call.
    public var maxLanes: Int { networks.maxLanes }
    let input: UnsafeMutablePointer<Float>  // [ObsAct][maxLanes], standardized

    public init(hyperparameters: ModelHyperparameters = ModelHyperparameters(), rng: inout RandomSource) {
        precondition(ObsAct == Obs + Act, "RewardModel: ObsAct must be Obs + Act")
        networks = Networks(count: 1, loss: SquaredError(), settings: hyperparameters.rewardFit,
                            maxLanes: hyperparameters.maxLanes, rng: &rng)
        input = allocateFloats(ObsAct * hyperparameters.maxLanes)
    }

    deinit { input.deallocate() }

    /// Refits on every transition's observed reward in `buffer` (its train/holdout split), starting
    /// from the current weights. Allocates (outside the control step).
    public func fit(buffer: TransitionBuffer<Obs, Act>, rng: inout RandomSource) -> FitReport {
        let rows = networks.rawRows(count: buffer.count)
        buffer.copyObservationActionRows(into: rows.inputs)
        for r in 0..<buffer.count { rows.targets[r] = buffer.reward(r) }
        return networks.fit(train: buffer.trainRows, trainCount: buffer.trainCount, holdout: buffer.holdoutRows,
                            holdoutCount: buffer.holdoutCount, rng: &rng)
    }

    /// Predicted reward[lanes] in raw units. O(network · lanes), allocates nothing.
    public func reward(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                       into reward: UnsafeMutablePointer<Float>) {
        precondition(lanes > 0 && lanes % laneBlock == 0 && lanes <= maxLanes,
                     "lanes must be a positive multiple of 16, at most maxLanes")
        networks.standardizeInputs(first: obs, rows: Obs, second: action, lanes: lanes, into: input)
        let y = networks.members[0].forward(batch: input, lanes: lanes)
        let scale = Vec(repeating: networks.targetStd[0]), offset = Vec(repeating: networks.targetMean[0])
        var l = 0
        while l < lanes { storeVec(madd(loadVec(y, l), scale, offset), reward, l); l += vecWidth }
    }
}
