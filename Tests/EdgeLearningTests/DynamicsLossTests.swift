import EdgeCore
import EdgeLearning
import Foundation
import Testing

@Suite("Dynamics losses")
struct DynamicsLossTests {
    static let targets = 3, lanes = 16, valid = 11

    /// Outputs [6][16]: raw log-variances from below the lower soft bound (−10) to above the upper one
    /// (0.5) so the clamp's slope is exercised, and means within about one predicted standard deviation
    /// of the targets so every loss term stays of order 1 (Float sums stay exact enough to difference).
    static func outputs() -> (output: [Float], target: [Float]) {
        var output = [Float](repeating: 0, count: 2 * targets * lanes)
        var target = [Float](repeating: 0, count: targets * lanes)
        for j in 0..<targets {
            for l in 0..<lanes {
                let raw = -13 + Float((l * 7 + j * 5) % 16)  // −13 ... 2
                let sigma = Float(exp(0.5 * Double(min(max(raw, -10), 0.5))))
                target[j * lanes + l] = Float(sin(Double(3 * l + j)))
                output[j * lanes + l] = target[j * lanes + l] + 1.5 * sigma * Float(cos(Double(2 * l + 5 * j)))
                output[(targets + j) * lanes + l] = raw
            }
        }
        return (output, target)
    }

    func loss(_ nll: GaussianNLL, _ output: [Float], _ target: [Float], gradient: UnsafeMutablePointer<Float>? = nil) -> LossSums {
        nll.evaluate(output: output, target: target, targets: Self.targets, lanes: Self.lanes, valid: Self.valid,
                     gradient: gradient, squaredErrorPerTarget: nil)
    }

    @Test("Gaussian NLL gradient with respect to means and raw log-variances matches central differences")
    func nllGradient() {
        let nll = GaussianNLL(minLogVariance: -10, maxLogVariance: 0.5)
        var (output, target) = Self.outputs()
        var gradient = [Float](repeating: .nan, count: output.count)
        let sums = loss(nll, output, target, gradient: &gradient)
        let n = Double(Self.valid * Self.targets)
        #expect(sums.elements == Self.valid * Self.targets)
        var worst = 0.0
        for i in 0..<output.count where i % Self.lanes < Self.valid {
            // Steps of 1e-2 for log-variances, 2% of the predicted standard deviation for means.
            let isMean = i < Self.targets * Self.lanes
            let raw = isMean ? output[i + Self.targets * Self.lanes] : 0
            let h: Float = isMean ? 0.02 * Float(exp(0.5 * Double(min(max(raw, -10), 0.5)))) : 1e-2
            let saved = output[i]
            output[i] = saved + h
            let up = loss(nll, output, target).loss
            output[i] = saved - h
            let down = loss(nll, output, target).loss
            output[i] = saved
            let numeric = (up - down) / (2 * Double(h)) / n
            let error = abs(Double(gradient[i]) - numeric)
            worst = max(worst, error / max(abs(numeric), 1e-3))
            #expect(error <= 2e-3 * abs(numeric) + 2e-5, "output \(i)")
        }
        print("Gaussian NLL gradient: worst relative error " + formatFloat(worst, digits: 3))
        // Padding lanes: zero gradient, and their values do not change the loss.
        for i in 0..<output.count where i % Self.lanes >= Self.valid { #expect(gradient[i] == 0) }
        for i in 0..<output.count where i % Self.lanes >= Self.valid { output[i] = 1e6 }
        #expect(loss(nll, output, target).loss == sums.loss)
    }

    @Test("Gaussian NLL of a unit Gaussian equals the closed form ½ (t − μ)² + ½ log 2π per element")
    func nllValue() {
        let nll = GaussianNLL(minLogVariance: -20, maxLogVariance: 20)
        var (output, target) = Self.outputs()
        // Raw log-variance 0, 20 from both bounds: the soft clamp is the identity there to 1e-8.
        for i in (Self.targets * Self.lanes)..<output.count { output[i] = 0 }
        var expected = 0.0, squared = 0.0
        for j in 0..<Self.targets {
            for l in 0..<Self.valid {
                let d = Double(target[j * Self.lanes + l] - output[j * Self.lanes + l])
                expected += 0.5 * d * d + 0.5 * log(2 * Double.pi)
                squared += d * d
            }
        }
        let sums = loss(nll, output, target)
        #expect(abs(sums.loss - expected) < 1e-5 * expected)
        #expect(abs(sums.squaredError - squared) < 1e-5 * squared)
    }

    @Test("the soft-bounded log-variance stays within its bounds and is the identity well inside them")
    func boundedLogVariance() {
        let nll = GaussianNLL(minLogVariance: -10, maxLogVariance: 0.5)
        for raw: Float in stride(from: -40, through: 40, by: 0.25) {
            let v = nll.boundedLogVariance(Vec(repeating: raw))[0]
            // The upper bound is soft by softplus(hi − lo) − (hi − lo) = 2.8e-5.
            #expect(v >= -10 && v <= 0.5 + 3e-5, "raw \(raw)")
            if raw > -6 && raw < -3 { #expect(abs(v - raw) < 0.05, "raw \(raw)") }
        }
        #expect(abs(nll.boundedLogVariance(Vec(repeating: 100))[0] - 0.5) < 3e-5)
        #expect(abs(nll.boundedLogVariance(Vec(repeating: -100))[0] + 10) < 1e-5)
    }

    @Test("vectorized softplus matches log(1 + eˣ) within 3e-7 plus one rounding from −30 to 30")
    func softplusAccuracy() {
        var worst = 0.0
        for i in 0...6_000 {
            let x = Float(-30 + Double(i) * 0.01)
            let exact = x > 0 ? Double(x) + log1p(exp(-Double(x))) : log1p(exp(Double(x)))
            let error = abs(Double(softplus(Vec(repeating: x))[0]) - exact)
            worst = max(worst, error - Double(Float(exact).ulp) / 2)
        }
        #expect(worst < 3e-7)
    }

    @Test("squared-error gradient is 2 (y − t) / n on valid lanes and zero on padding")
    func squaredErrorGradient() {
        let (output, target) = Self.outputs()
        var gradient = [Float](repeating: .nan, count: Self.targets * Self.lanes)
        let sums = SquaredError().evaluate(output: output, target: target, targets: Self.targets, lanes: Self.lanes,
                                           valid: Self.valid, gradient: &gradient, squaredErrorPerTarget: nil)
        var squared = 0.0
        for i in 0..<gradient.count {
            let d = output[i] - target[i]
            if i % Self.lanes < Self.valid {
                squared += Double(d * d)
                #expect(abs(gradient[i] - 2 * d / Float(Self.valid * Self.targets)) < 1e-7)
            } else {
                #expect(gradient[i] == 0)
            }
        }
        #expect(abs(sums.loss - squared) < 1e-5 * squared && sums.loss == sums.squaredError)
    }
}
