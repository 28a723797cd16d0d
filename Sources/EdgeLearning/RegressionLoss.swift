import CEdgeSys
import EdgeCore

/// Losses of the fitted models, evaluated over a batch in the lane layout: outputs y[Out][lanes],
/// targets t[targets][lanes], one sample per lane; lanes at and after `valid` are padding.

/// Sums over the valid lanes of one loss evaluation (divide by `elements` for means).
public struct LossSums {
    /// Σ of the per-element loss.
    public var loss: Double = 0
    /// Σ of the squared error of the predicted mean.
    public var squaredError: Double = 0
    /// Number of (lane, target) pairs summed.
    public var elements = 0

    public init() {}

    public static func += (a: inout LossSums, b: LossSums) {
        a.loss += b.loss; a.squaredError += b.squaredError; a.elements += b.elements
    }
}

/// A regression loss: how a network's outputs are read as a prediction of standardized targets.
public protocol RegressionLoss {
    /// Targets per sample for a network with `outputs` outputs.
    func targetCount(outputs: Int) -> Int

    /// Adds up the loss and squared error over lanes `0..<valid` (valid > 0). If `gradient` is given,
    /// writes dL/dy[Out][lanes] of the mean loss L = Σ loss / (valid · targets), zero in padding lanes.
    /// If `squaredErrorPerTarget` is given, adds each target's Σ squared error into it.
    /// O(Out · lanes), allocates nothing.
    func evaluate(output: UnsafePointer<Float>, target: UnsafePointer<Float>, targets: Int, lanes: Int,
                  valid: Int, gradient: UnsafeMutablePointer<Float>?,
                  squaredErrorPerTarget: UnsafeMutablePointer<Double>?) -> LossSums

    /// Re-expresses the output layer after the target standardization changed, so the network predicts
    /// the same raw values as before: target j's new standardized value is
    /// old · ratio[j] + shift[j] (ratio = oldStd / newStd, shift = (oldMean − newMean) / newStd).
    func restandardizeOutputs<let Hidden: Int, let Out: Int>(_ layer: Dense<Hidden, Out>, targets: Int,
                                                              ratio: UnsafePointer<Float>,
                                                              shift: UnsafePointer<Float>)
}

extension RegressionLoss {
    /// The mean outputs (rows 0..<targets) of an output layer: ŷ' = ŷ · ratio + shift, applied to the
    /// weights and bias that produce them.
    func restandardizeMeans<let Hidden: Int, let Out: Int>(_ layer: Dense<Hidden, Out>, targets: Int,
                                                           ratio: UnsafePointer<Float>, shift: UnsafePointer<Float>) {
        for j in 0..<targets {
            for h in 0..<Hidden { layer.setWeight(h, j, layer.weight(h, j) * ratio[j]) }
            layer.b[j] = layer.b[j] * ratio[j] + shift[j]
        }
    }
}

/// Mask of the lanes l..<l+8 that are below `valid`.
@inlinable @inline(__always)
func validLanes(_ l: Int, _ valid: Int) -> SIMDMask<SIMD8<Int32>> {
    (SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32(truncatingIfNeeded: l)) .< Int32(truncatingIfNeeded: valid)
}

/// |x| for each lane (clears the sign bit).
@inlinable @inline(__always)
func absolute(_ x: Vec) -> Vec {
    unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7FFF_FFFF), to: Vec.self)
}

/// softplus(x) = log(1 + eˣ) for each lane, error below 3e-7 plus the result's rounding, no libm call:
/// max(x, 0) + log1p(e) with e = e^−|x| ∈ (0, 1], and log1p(e) = 2 atanh(s), s = e / (2 + e) ≤ 1/3,
/// summed to s¹³ (truncation error below 1e-8).
@inlinable @inline(__always)
public func softplus(_ x: Vec) -> Vec {
    let e = fastExp(-absolute(x))
    let s = e / (Vec(repeating: 2) + e)
    let s2 = s * s
    var p = Vec(repeating: 2.0 / 13)
    p = madd(p, s2, Vec(repeating: 2.0 / 11))
    p = madd(p, s2, Vec(repeating: 2.0 / 9))
    p = madd(p, s2, Vec(repeating: 2.0 / 7))
    p = madd(p, s2, Vec(repeating: 2.0 / 5))
    p = madd(p, s2, Vec(repeating: 2.0 / 3))
    p = madd(p, s2, Vec(repeating: 2))
    return madd(p, s, x.replacing(with: 0, where: x .< 0))
}

/// Gaussian negative log-likelihood of a network that outputs, per target j, a mean (row j) and a raw
/// log-variance (row targets + j), as in PETS (Chua et al., 2018): the raw value r is soft-clamped to
/// v = lo + softplus(hi − softplus(hi − r) − lo), which is ≈ r between the bounds and smooth, so the
/// predicted variance can neither collapse nor explode. Per element: ½ (t − μ)² e^−v + ½ v + ½ log 2π.
public struct GaussianNLL: RegressionLoss {
    /// Soft lower bound of the log-variance (standardized units).
    public var minLogVariance: Float
    /// Soft upper bound of the log-variance (standardized units).
    public var maxLogVariance: Float

    public init(minLogVariance: Float, maxLogVariance: Float) {
        precondition(minLogVariance < maxLogVariance, "minLogVariance must be below maxLogVariance")
        self.minLogVariance = minLogVariance
        self.maxLogVariance = maxLogVariance
    }

    public func targetCount(outputs: Int) -> Int {
        precondition(outputs % 2 == 0, "a Gaussian network has a mean and a log-variance per target")
        return outputs / 2
    }

    /// The soft-clamped log-variance v for raw outputs r.
    @inlinable @inline(__always)
    public func boundedLogVariance(_ raw: Vec) -> Vec {
        let lo = Vec(repeating: minLogVariance), hi = Vec(repeating: maxLogVariance)
        return lo + softplus(hi - softplus(hi - raw) - lo)
    }

    public func evaluate(output: UnsafePointer<Float>, target: UnsafePointer<Float>, targets: Int, lanes: Int,
                         valid: Int, gradient: UnsafeMutablePointer<Float>?,
                         squaredErrorPerTarget: UnsafeMutablePointer<Double>?) -> LossSums {
        precondition(valid > 0 && valid <= lanes && lanes % vecWidth == 0, "bad lane counts")
        let lo = Vec(repeating: minLogVariance), hi = Vec(repeating: maxLogVariance)
        let half = Vec(repeating: 0.5), one = Vec(repeating: 1)
        let scale = Vec(repeating: 1 / Float(valid * targets))
        var sums = LossSums()
        for j in 0..<targets {
            let mu = output + j * lanes, raw = output + (targets + j) * lanes, t = target + j * lanes
            var lossAcc = Vec(repeating: 0), errAcc = Vec(repeating: 0)
            var l = 0
            while l < lanes {
                let inLane = validLanes(l, valid)
                let r = loadVec(raw, l)
                let v1 = hi - softplus(hi - r)
                let v = lo + softplus(v1 - lo)
                let d = loadVec(t, l) - loadVec(mu, l)
                let invVar = fastExp(-v)
                let d2 = (d * d).replacing(with: 0, where: .!inLane)
                errAcc += d2
                lossAcc += (half * madd(d2, invVar, v)).replacing(with: 0, where: .!inLane)
                if let gradient {
                    // dL/dμ = −(t − μ) e^−v; dL/dv = ½ (1 − (t − μ)² e^−v); dv/dr = σ(hi − r) σ(v1 − lo).
                    let gMu = (-d * invVar * scale).replacing(with: 0, where: .!inLane)
                    let gV = half * (one - d2 * invVar) * scale
                    let gR = (gV * fastSigmoid(hi - r) * fastSigmoid(v1 - lo)).replacing(with: 0, where: .!inLane)
                    storeVec(gMu, gradient, j * lanes + l)
                    storeVec(gR, gradient, (targets + j) * lanes + l)
                }
                l += vecWidth
            }
            let err = Double(horizontalSum(errAcc))
            sums.squaredError += err
            sums.loss += Double(horizontalSum(lossAcc)) + Double(DiagonalGaussian.halfLog2Pi) * Double(valid)
            squaredErrorPerTarget?[j] += err
        }
        sums.elements = valid * targets
        return sums
    }

    /// Means as in the protocol; the log-variance of target j shifts by 2 log(ratio[j]) (a variance
    /// scales with the square of the standard deviation). Exact before the soft clamp.
    public func restandardizeOutputs<let Hidden: Int, let Out: Int>(_ layer: Dense<Hidden, Out>, targets: Int,
                                                                     ratio: UnsafePointer<Float>,
                                                                     shift: UnsafePointer<Float>) {
        restandardizeMeans(layer, targets: targets, ratio: ratio, shift: shift)
        for j in 0..<targets { layer.b[targets + j] += 2 * logf(ratio[j]) }
    }
}

/// Mean squared error of a network whose outputs are the predicted targets: per element (y − t)².
public struct SquaredError: RegressionLoss {
    public init() {}

    public func targetCount(outputs: Int) -> Int { outputs }

    public func evaluate(output: UnsafePointer<Float>, target: UnsafePointer<Float>, targets: Int, lanes: Int,
                         valid: Int, gradient: UnsafeMutablePointer<Float>?,
                         squaredErrorPerTarget: UnsafeMutablePointer<Double>?) -> LossSums {
        precondition(valid > 0 && valid <= lanes && lanes % vecWidth == 0, "bad lane counts")
        let scale = Vec(repeating: 2 / Float(valid * targets))
        var sums = LossSums()
        for j in 0..<targets {
            var errAcc = Vec(repeating: 0)
            var l = 0
            while l < lanes {
                let inLane = validLanes(l, valid)
                let d = (loadVec(output, j * lanes + l) - loadVec(target, j * lanes + l)).replacing(with: 0, where: .!inLane)
                errAcc = madd(d, d, errAcc)
                if let gradient { storeVec(d * scale, gradient, j * lanes + l) }  // dL/dy = 2 (y − t) / n
                l += vecWidth
            }
            let err = Double(horizontalSum(errAcc))
            sums.squaredError += err
            squaredErrorPerTarget?[j] += err
        }
        sums.loss = sums.squaredError
        sums.elements = valid * targets
        return sums
    }

    public func restandardizeOutputs<let Hidden: Int, let Out: Int>(_ layer: Dense<Hidden, Out>, targets: Int,
                                                                     ratio: UnsafePointer<Float>,
                                                                     shift: UnsafePointer<Float>) {
        restandardizeMeans(layer, targets: targets, ratio: ratio, shift: shift)
    }
}
