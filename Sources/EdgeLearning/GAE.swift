import EdgeCore

/// Generalized advantage estimation (Schulman et al., 2016, "High-dimensional continuous control using
/// generalized advantage estimation"), the plain reverse loop, with one trajectory per lane.
public enum GAE {
    /// For every lane, from the last step back to the first:
    ///
    ///     δ_t = r_t + γ V(s_{t+1}) − V(s_t)
    ///     A_t = δ_t + γλ A_{t+1}        (A_{t+1} = 0 when step t+1 is not valid)
    ///     R_t = A_t + V(s_t)            (the value target)
    ///
    /// Trajectories end by truncation only (the horizon, or a step dropped for model disagreement), so a
    /// valid step always bootstraps from V(s_{t+1}) = `values[t + 1]`: the last valid step of a lane
    /// uses the value of the state it led to, and no advantage flows back across the cut. Steps after a
    /// cut are invalid and get A = R = 0 (whatever their inputs hold, even NaN).
    ///
    /// Layout, step-major: `rewards`, `valid` (1 or 0), `advantages`, `returns` are [steps][lanes];
    /// `values` is [steps + 1][lanes]. `lanes` is a multiple of 8. O(steps · lanes), no allocation.
    @inlinable
    public static func compute(rewards: UnsafePointer<Float>, values: UnsafePointer<Float>,
                               valid: UnsafePointer<Float>, steps: Int, lanes: Int, gamma: Float, lambda: Float,
                               advantages: UnsafeMutablePointer<Float>, returns: UnsafeMutablePointer<Float>) {
        precondition(lanes % vecWidth == 0, "lane count must be a multiple of the vector width")
        let g = Vec(repeating: gamma), gl = Vec(repeating: gamma * lambda), zero = Vec(repeating: 0)
        var l = 0
        while l < lanes {
            var next = zero  // A_{t+1}
            var t = steps - 1
            while t >= 0 {
                let i = t * lanes + l
                let v = loadVec(values, i)
                let delta = madd(g, loadVec(values, i + lanes), loadVec(rewards, i)) - v
                let isValid = loadVec(valid, i) .!= zero
                let advantage = madd(gl, next, delta).replacing(with: 0, where: .!isValid)
                storeVec(advantage, advantages, i)
                storeVec((advantage + v).replacing(with: 0, where: .!isValid), returns, i)
                next = advantage
                t -= 1
            }
            l += vecWidth
        }
    }
}
