import EdgeCore
import EdgeLearning

/// Something whose parameters can be copied from another instance of the same shape without
/// allocating: what the policy mailbox moves between the learner and the control loop.
public protocol PolicyParameters: AnyObject {
    /// Copies `other`'s parameters into this instance. No allocation.
    func copyParameters(from other: Self)
}

/// A policy the control loop can run: one observation in, one action out, no allocation.
public protocol ControlPolicy: PolicyParameters {
    /// Writes the action for `observation` into `action`. `explore` asks a stochastic policy for a
    /// sample (data collection) instead of its deterministic action (evaluation); `rng` feeds it.
    /// Normalizing the observation is the policy's business (it knows what it was trained on).
    func controlAction(_ observation: UnsafePointer<Float>, explore: Bool, rng: inout RandomSource,
                       into action: UnsafeMutablePointer<Float>)
}

extension GaussianPolicy: ControlPolicy {
    /// The mean (evaluation) or a sample (exploration), in plant units, clipped to the action bounds;
    /// the observation is scaled by the policy's observation bounds inside.
    @inlinable
    public func controlAction(_ observation: UnsafePointer<Float>, explore: Bool, rng: inout RandomSource,
                              into action: UnsafeMutablePointer<Float>) {
        if explore {
            act(observation, rng: &rng, into: action)
        } else {
            mean(observation, into: action)
        }
    }
}
