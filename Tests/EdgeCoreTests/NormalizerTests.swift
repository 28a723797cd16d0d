import EdgeCore
import Testing

@Suite("RunningNormalizer")
struct NormalizerTests {
    /// 200 rows of three features stored with a row stride of 5; the two unused columns hold NaN, so
    /// reading them would poison the statistics. Feature 0 ~ N(3, 2²), feature 1 = 1000 + N(0, 0.5²)
    /// (large mean, small spread), feature 2 constant.
    static func data() -> FloatBuffer {
        var rng = RandomSource(seed: 51)
        let x = FloatBuffer(200 * 5)
        for r in 0..<200 {
            x[r * 5] = 3 + 2 * rng.nextGaussian()
            x[r * 5 + 1] = 1000 + 0.5 * rng.nextGaussian()
            x[r * 5 + 2] = 4.25
            x[r * 5 + 3] = .nan; x[r * 5 + 4] = .nan
        }
        return x
    }

    /// Two-pass mean and population variance in Double of feature d.
    static func twoPass(_ x: FloatBuffer, feature d: Int) -> (mean: Double, variance: Double) {
        let values = (0..<200).map { Double(x[$0 * 5 + d]) }
        let mean = values.reduce(0, +) / 200
        return (mean, values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 200)
    }

    static func updated(_ x: FloatBuffer) -> RunningNormalizer {
        let n = RunningNormalizer(count: 3)
        var row = 0
        for batch in [1, 7, 100, 3, 89] {
            n.update(x.pointer + row * 5, rows: batch, stride: 5)
            row += batch
        }
        return n
    }

    @Test("updates in batches of 1, 7, 100, 3 and 89 rows give the two-pass mean and variance of all 200 rows to 1e-9")
    func mergedStatistics() {
        let x = Self.data()
        let n = Self.updated(x)
        #expect(n.samples == 200)
        for d in 0..<2 {
            let (mean, variance) = Self.twoPass(x, feature: d)
            // Chan's merge in Double is backward stable: relative error near 1e-13 here, 1e-9 leaves room.
            #expect(abs(n.mean[d] - mean) <= 1e-9 * abs(mean), "feature \(d) mean")
            #expect(abs(n.variance(d) - variance) <= 1e-9 * variance, "feature \(d) variance")
            #expect(abs(n.std(d) - variance.squareRoot()) <= 1e-9 * variance.squareRoot())
        }
        #expect(n.mean[2] == 4.25 && n.variance(2) == 0, "a constant feature has exactly zero variance")
        #expect(n.std(2) == n.minStd, "and its standard deviation is the floor")
    }

    @Test("normalize gives (x - mean) / std, denormalize inverts it, and values beyond ±clip std are clamped to exactly ±clip")
    func normalizeRoundTrip() {
        let x = Self.data()
        let n = Self.updated(x)
        let y = FloatBuffer(3), back = FloatBuffer(3)
        let u = floatRoundoff
        for r in 0..<200 {
            n.normalize(x.pointer + r * 5, into: y.pointer)
            n.denormalize(y.pointer, into: back.pointer)
            for d in 0..<3 {
                let xd = Double(x[r * 5 + d]), mean = n.mean[d], std = n.std(d)
                let exact = (xd - mean) / std
                // Float: x − mean rounds (u |x − m|) after the mean itself was rounded to Float
                // (u |mean|), and 1/std and the product add 2u |y|.
                let tolerance = 2 * (3 * u * abs(exact) + u * (abs(mean) + abs(xd)) / std)
                #expect(abs(Double(y[d]) - exact) <= tolerance, "row \(r) feature \(d)")
                // The round trip reuses the same Float mean and 1/std: (x − m) picks up 3 roundings,
                // adding m one more (u |x|): 2 · (3u |x − m| + u |x|).
                let error = abs(Double(back[d]) - xd)
                #expect(error <= 2 * (3 * u * abs(xd - Double(n.meanF[d])) + u * abs(xd)), "round trip row \(r) feature \(d)")
            }
        }
        let far = FloatBuffer([Float(3 + 2 * 2 * n.clip), Float(1000 - 0.5 * 2 * n.clip), 4.25])
        n.normalize(far.pointer, into: y.pointer)
        #expect(y[0] == n.clip && y[1] == -n.clip && y[2] == 0)
    }

    @Test("before any update normalize is the identity, and restoring the statistics with set(samples:mean:m2:) reproduces normalize exactly")
    func identityAndRestore() {
        let fresh = RunningNormalizer(count: 3)
        let x = FloatBuffer([1.5, -2, 7]), y = FloatBuffer(3)
        fresh.normalize(x.pointer, into: y.pointer)
        #expect(y.array == x.array)
        #expect(fresh.variance(0) == 0)

        let data = Self.data()
        let original = Self.updated(data)
        var means = (0..<3).map { original.mean[$0] }, m2 = (0..<3).map { original.sumOfSquares($0) }
        fresh.set(samples: original.samples, mean: &means, m2: &m2)
        let a = FloatBuffer(3), b = FloatBuffer(3)
        for r in 0..<200 {
            original.normalize(data.pointer + r * 5, into: a.pointer)
            fresh.normalize(data.pointer + r * 5, into: b.pointer)
            #expect(a.array == b.array)
        }
    }
}
