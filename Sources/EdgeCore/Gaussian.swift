import CEdgeSys

/// A diagonal Gaussian over `count` dimensions, parameterized by means and log standard deviations
/// (the policy distribution of PPO). All functions are O(count) and allocate nothing.
public enum DiagonalGaussian {
    /// 0.5 · log(2π)
    public static let halfLog2Pi: Float = 0.918_938_533_204_672_7

    /// log N(a; μ, diag(σ²)) = Σ_d [ −½((a−μ)/σ)² − log σ − ½ log 2π ].
    @inlinable
    public static func logProb(_ a: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                               logStd: UnsafePointer<Float>, count: Int) -> Float {
        var total: Float = 0
        for d in 0..<count {
            let u = (a[d] - mean[d]) * expf(-logStd[d])
            total += -0.5 * u * u - logStd[d] - halfLog2Pi
        }
        return total
    }

    /// Adds `scale` · ∂logProb/∂μ and `scale` · ∂logProb/∂logσ into the gradient buffers:
    /// ∂/∂μ_d = (a−μ)/σ², ∂/∂logσ_d = ((a−μ)/σ)² − 1.
    @inlinable
    public static func logProbBackward(_ a: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                       logStd: UnsafePointer<Float>, count: Int, scale: Float,
                                       meanGrad: UnsafeMutablePointer<Float>, logStdGrad: UnsafeMutablePointer<Float>) {
        for d in 0..<count {
            let invStd = expf(-logStd[d])
            let u = (a[d] - mean[d]) * invStd
            meanGrad[d] += scale * u * invStd
            logStdGrad[d] += scale * (u * u - 1)
        }
    }

    /// Entropy Σ_d (log σ_d + ½ log 2πe); its gradient with respect to each log σ_d is 1.
    @inlinable
    public static func entropy(logStd: UnsafePointer<Float>, count: Int) -> Float {
        var total: Float = 0
        for d in 0..<count { total += logStd[d] + halfLog2Pi + 0.5 }
        return total
    }

    /// Draws a = μ + σ ε with ε standard normal into `a`, and the ε used into `noise` if given.
    @inlinable
    public static func sample(mean: UnsafePointer<Float>, logStd: UnsafePointer<Float>, count: Int,
                              rng: inout RandomSource, into a: UnsafeMutablePointer<Float>,
                              noise: UnsafeMutablePointer<Float>? = nil) {
        for d in 0..<count {
            let e = rng.nextGaussian()
            noise?[d] = e
            a[d] = mean[d] + expf(logStd[d]) * e
        }
    }
}
