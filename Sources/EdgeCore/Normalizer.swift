/// Running mean and variance of `count` features (Chan et al.'s parallel update, in Double), used to
/// standardize network inputs and targets: y = clamp((x − mean) / std, ±clip).
public final class RunningNormalizer {
    public let count: Int
    public private(set) var samples: Double = 0
    /// Per feature: mean, sum of squared deviations (M2), and the Float mean and 1/std used by `normalize`.
    public let mean: UnsafeMutablePointer<Double>
    let m2: UnsafeMutablePointer<Double>
    public let meanF: UnsafeMutablePointer<Float>
    public let invStdF: UnsafeMutablePointer<Float>
    /// Standard deviations below this are treated as this (constant features do not blow up).
    public let minStd: Double
    /// Normalized values are clamped to ±clip.
    public let clip: Float

    public init(count: Int, minStd: Double = 1e-6, clip: Float = 10) {
        self.count = count
        self.minStd = minStd
        self.clip = clip
        mean = .allocate(capacity: count); mean.initialize(repeating: 0, count: count)
        m2 = .allocate(capacity: count); m2.initialize(repeating: 0, count: count)
        meanF = allocateFloats(count)
        invStdF = allocateFloats(count)
        invStdF.update(repeating: 1, count: count)
    }

    deinit { mean.deallocate(); m2.deallocate(); meanF.deallocate(); invStdF.deallocate() }

    /// Population variance of feature d (0 before any sample).
    public func variance(_ d: Int) -> Double { samples > 0 ? m2[d] / samples : 0 }
    public func std(_ d: Int) -> Double { max(variance(d).squareRoot(), minStd) }

    /// Adds `rows` samples stored row-major (`x[r * stride + d]`). O(rows · count).
    public func update(_ x: UnsafePointer<Float>, rows: Int, stride: Int) {
        guard rows > 0 else { return }
        for d in 0..<count {
            var s: Double = 0
            for r in 0..<rows { s += Double(x[r * stride + d]) }
            let batchMean = s / Double(rows)
            var q: Double = 0
            for r in 0..<rows { let e = Double(x[r * stride + d]) - batchMean; q += e * e }
            let n = samples + Double(rows)
            let delta = batchMean - mean[d]
            mean[d] += delta * Double(rows) / n
            m2[d] += q + delta * delta * samples * Double(rows) / n
        }
        samples += Double(rows)
        refresh()
    }

    /// Sets the statistics directly (used when loading a checkpoint).
    public func set(samples: Double, mean newMean: UnsafePointer<Double>, m2 newM2: UnsafePointer<Double>) {
        self.samples = samples
        mean.update(from: newMean, count: count)
        m2.update(from: newM2, count: count)
        refresh()
    }

    /// The M2 statistic of feature d, for checkpoints.
    public func sumOfSquares(_ d: Int) -> Double { m2[d] }

    func refresh() {
        for d in 0..<count {
            meanF[d] = Float(mean[d])
            invStdF[d] = Float(1 / std(d))
        }
    }

    /// y[d] = clamp((x[d] − mean) / std, ±clip). O(count), no allocation.
    @inlinable
    public func normalize(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
        for d in 0..<count {
            let v = (x[d] - meanF[d]) * invStdF[d]
            y[d] = min(max(v, -clip), clip)
        }
    }

    /// x[d] = y[d] · std + mean: the inverse of `normalize` (without the clamp).
    @inlinable
    public func denormalize(_ y: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        for d in 0..<count { x[d] = y[d] / invStdF[d] + meanF[d] }
    }
}
