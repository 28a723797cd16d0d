import EdgeCore
import Foundation
import Testing

@Suite("DiagonalGaussian")
struct GaussianTests {
    static let action: [Float] = [0.3, -1.2, 0.05, 2.5]
    static let mean: [Float] = [0.1, -0.4, 0.5, -0.3]
    static let logStd: [Float] = [-0.5, 0.2, -1.1, 0.7]

    /// log N(a; μ, σ²) per dimension in Double, and its terms' magnitudes.
    static func referenceLogProb(_ a: [Float], _ mean: [Float], _ logStd: [Float]) -> (value: Double, magnitude: Double) {
        var value = 0.0, magnitude = 0.0
        for d in a.indices {
            let u = (Double(a[d]) - Double(mean[d])) / exp(Double(logStd[d]))
            let terms = [-0.5 * u * u, -Double(logStd[d]), -0.5 * log(2 * Double.pi)]
            value += terms.reduce(0, +)
            magnitude += terms.reduce(0) { $0 + abs($1) }
        }
        return (value, magnitude)
    }

    static func logProb(_ a: [Float], _ mean: [Float], _ logStd: [Float]) -> Double {
        var a = a, mean = mean, logStd = logStd
        return Double(DiagonalGaussian.logProb(&a, mean: &mean, logStd: &logStd, count: a.count))
    }

    static func entropy(_ logStd: [Float]) -> Double {
        var logStd = logStd
        return Double(DiagonalGaussian.entropy(logStd: &logStd, count: logStd.count))
    }

    static func referenceEntropy(_ logStd: [Float]) -> Double {
        logStd.reduce(0) { $0 + Double($1) + 0.5 * log(2 * Double.pi * M_E) }
    }

    /// Float logProb: per dimension expf (under 1 ulp), a subtraction, two products for u², the sum of
    /// three terms and the running total, plus the rounded constant ½ log 2π: at most 8u of the terms'
    /// magnitudes; twice that.
    static func logProbTolerance(_ magnitude: Double) -> Double { 2 * 8 * floatRoundoff * magnitude }

    @Test("logProb and entropy match the Double formulas")
    func values() {
        let ref = Self.referenceLogProb(Self.action, Self.mean, Self.logStd)
        #expect(abs(Self.logProb(Self.action, Self.mean, Self.logStd) - ref.value) <= Self.logProbTolerance(ref.magnitude))
        let entropy = Self.referenceEntropy(Self.logStd)
        // Three additions per dimension and the rounded constant ½ log 2π: 4u of the terms' magnitudes.
        let magnitude = Self.logStd.reduce(0) { $0 + abs(Double($1)) + 0.5 * log(2 * Double.pi * M_E) }
        #expect(abs(Self.entropy(Self.logStd) - entropy) <= 2 * 4 * floatRoundoff * magnitude)
        // Known value: a standard normal at its mean has log density −½ log 2π.
        #expect(abs(Self.logProb([0], [0], [0]) + 0.5 * log(2 * Double.pi)) <= floatRoundoff)
    }

    @Test("logProbBackward adds scale times (a - μ)/σ² and ((a - μ)/σ)² - 1 into the gradient buffers")
    func backwardFormula() {
        var a = Self.action, mean = Self.mean, logStd = Self.logStd
        var meanGrad: [Float] = [1, 2, 3, 4], logStdGrad: [Float] = [-1, -2, -3, -4]
        DiagonalGaussian.logProbBackward(&a, mean: &mean, logStd: &logStd, count: 4, scale: -0.5,
                                         meanGrad: &meanGrad, logStdGrad: &logStdGrad)
        for d in 0..<4 {
            let sigma = exp(Double(logStd[d])), diff = Double(a[d]) - Double(mean[d])
            let gMean = -0.5 * diff / (sigma * sigma), gLogStd = -0.5 * (diff * diff / (sigma * sigma) - 1)
            // expf, a subtraction and up to four products or sums: 8u of each term, twice that.
            #expect(abs(Double(meanGrad[d]) - (Double(d + 1) + gMean)) <= 16 * floatRoundoff * (abs(gMean) + Double(d + 1)))
            #expect(abs(Double(logStdGrad[d]) - (-Double(d + 1) + gLogStd)) <= 16 * floatRoundoff * (abs(gLogStd) + 1 + Double(d + 1)))
        }
    }

    @Test("central differences of logProb and entropy with respect to every mean and log std match the analytic gradients")
    func finiteDifferences() {
        var a = Self.action, mean = Self.mean, logStd = Self.logStd
        var meanGrad = [Float](repeating: 0, count: 4), logStdGrad = [Float](repeating: 0, count: 4)
        DiagonalGaussian.logProbBackward(&a, mean: &mean, logStd: &logStd, count: 4, scale: 1,
                                         meanGrad: &meanGrad, logStdGrad: &logStdGrad)
        var check = ToleranceCheck("DiagonalGaussian finite differences")
        // h = 1e-2: logProb is quadratic in μ (no truncation) and smooth in log σ (|∂³/∂logσ³| = 4u²,
        // truncation about 7e-5 u²); Float noise about 1e-6 / h = 1e-4 of the gradient scale, both
        // measured by `CentralDifference`. The analytic gradient's own error: 16u (|g| + 1).
        let h: Float = 1e-2
        for d in 0..<4 {
            func withMean(_ v: Float) -> [Float] { var m = Self.mean; m[d] = v; return m }
            func withLogStd(_ v: Float) -> [Float] { var s = Self.logStd; s[d] = v; return s }
            let dMean = CentralDifference(at: Self.mean[d], h: h,
                                          kernel: { Self.logProb(Self.action, withMean($0), Self.logStd) },
                                          reference: { Self.referenceLogProb(Self.action, withMean($0), Self.logStd).value })
            check.check(Double(meanGrad[d]), dMean.estimate, tolerance: dMean.tolerance + 16 * floatRoundoff * (abs(dMean.estimate) + 1), "∂/∂μ[\(d)]")
            let dLogStd = CentralDifference(at: Self.logStd[d], h: h,
                                            kernel: { Self.logProb(Self.action, Self.mean, withLogStd($0)) },
                                            reference: { Self.referenceLogProb(Self.action, Self.mean, withLogStd($0)).value })
            check.check(Double(logStdGrad[d]), dLogStd.estimate, tolerance: dLogStd.tolerance + 16 * floatRoundoff * (abs(dLogStd.estimate) + 1), "∂/∂logσ[\(d)]")
            let dEntropy = CentralDifference(at: Self.logStd[d], h: h,
                                             kernel: { Self.entropy(withLogStd($0)) },
                                             reference: { Self.referenceEntropy(withLogStd($0)) })
            check.check(1, dEntropy.estimate, tolerance: dEntropy.tolerance, "∂entropy/∂logσ[\(d)]")
        }
        check.expectPassed()
    }

    @Test("sample draws μ + σ ε with ε the generator's next Gaussians and reports ε")
    func sampling() {
        var mean = Self.mean, logStd = Self.logStd
        var rng = RandomSource(seed: 71), twin = rng
        var a = [Float](repeating: 0, count: 4), noise = [Float](repeating: 0, count: 4)
        DiagonalGaussian.sample(mean: &mean, logStd: &logStd, count: 4, rng: &rng, into: &a, noise: &noise)
        for d in 0..<4 {
            let e = twin.nextGaussian()
            #expect(noise[d] == e)
            let expected = Double(mean[d]) + exp(Double(logStd[d])) * Double(e)
            // expf under 1 ulp, one product, one sum: 3u of the terms.
            #expect(abs(Double(a[d]) - expected) <= 2 * 3 * floatRoundoff * (abs(Double(mean[d])) + abs(expected) + 1))
        }
        var b = [Float](repeating: 0, count: 4)
        DiagonalGaussian.sample(mean: &mean, logStd: &logStd, count: 4, rng: &twin, into: &b)
        var third = RandomSource(seed: 71)
        for _ in 0..<4 { _ = third.nextGaussian() }
        #expect(abs(Double(b[0]) - (Double(mean[0]) + exp(Double(logStd[0])) * Double(third.nextGaussian()))) <= 1e-6,
                "without a noise buffer the stream advances the same way")
    }
}
