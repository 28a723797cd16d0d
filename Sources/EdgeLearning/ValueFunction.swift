import EdgeCore

/// The state-value estimate V(s) of the current policy, in scaled-return units (rewards ×
/// `rewardScale`): an MLP 2 × 64 tanh on the same scaled observations the policy sees
/// (`GaussianPolicy.scaleObservations`). Batched only; samples in lanes, at most `maxLanes`.
public final class ValueFunction<let Obs: Int> {
    public typealias Network = MLP<Obs, 64, 1, Tanh>

    public let network: Network
    /// Most lanes a batched call may use.
    @inlinable public var maxLanes: Int { network.maxLanes }

    /// A freshly initialized value network (hidden weights of std `hiddenGain`/√fan-in) with batch
    /// buffers for `maxLanes` lanes.
    public init(hiddenGain: Float, maxLanes: Int, rng: inout RandomSource) {
        network = Network(rng: &rng, maxLanes: maxLanes)
        network.initializeHiddenLayers(gain: hiddenGain, rng: &rng)
    }

    /// V(s)[lanes] for network inputs x[Obs][lanes], in the network's buffer (valid until its next
    /// batched call; `backward(input:valueGrad:lanes:)` uses this pass). O(network · lanes).
    @inlinable @discardableResult
    public func predict(input x: UnsafePointer<Float>, lanes: Int) -> UnsafeMutablePointer<Float> {
        network.forward(batch: x, lanes: lanes)
    }

    /// Adds dL/dθ for dL/dV[lanes] (zero in unused lanes), after `predict` on the same input.
    @inlinable
    public func backward(input x: UnsafePointer<Float>, valueGrad: UnsafePointer<Float>, lanes: Int) {
        network.backward(batch: x, outputGrad: valueGrad, lanes: lanes)
    }
}
