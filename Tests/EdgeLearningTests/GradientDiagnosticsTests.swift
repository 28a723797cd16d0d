import EdgeCore
import EdgeLearning
import Foundation
import Testing

/// ‖A^H‖₂^(1/H) for a 2×2 matrix, in Double: the exact per-step growth of a linear system's Jacobian product.
func exactGrowth(_ a: [Double], steps: Int) -> Double {
    var p = [1.0, 0, 0, 1], logScale = 0.0
    for _ in 0..<steps {
        p = [a[0] * p[0] + a[1] * p[2], a[0] * p[1] + a[1] * p[3], a[2] * p[0] + a[3] * p[2], a[2] * p[1] + a[3] * p[3]]
        let m = p.map(abs).max()!
        p = p.map { $0 / m }
        logScale += log(m)
    }
    // Largest singular value of a 2×2 matrix: √(largest eigenvalue of PᵀP).
    let g = [p[0] * p[0] + p[2] * p[2], p[0] * p[1] + p[2] * p[3], p[1] * p[1] + p[3] * p[3]]
    let largest = (g[0] + g[2]) / 2 + (((g[0] - g[2]) / 2) * ((g[0] - g[2]) / 2) + g[1] * g[1]).squareRoot()
    return exp((logScale + 0.5 * log(largest)) / Double(steps))
}

@Suite("Gradient diagnostics")
struct GradientDiagnosticsTests {
    /// A pendulum policy whose mean is the linear feedback torque = −k1 sin θ − k2 θ̇ near upright
    /// (tanh units used in their linear range), with σ = e^−20 so rollouts stay at the upright point.
    static func feedbackPolicy(k1: Float, k2: Float) -> GaussianPolicy<3, 1> {
        let policy = pendulumPolicy(seed: 60, logStd: -20, outputScale: 0, actionBound: 2)
        let net = policy.meanNetwork
        for i in 0..<3 { for o in 0..<64 { net.l1.setWeight(i, o, 0) } }
        for i in 0..<64 { for o in 0..<64 { net.l2.setWeight(i, o, 0) } }
        let small: Float = 1e-3
        // Network input x = (cos θ, sin θ, θ̇ / 8); torque = 2 μ: μ = −(k1 / 2) x₁ − 4 k2 x₂.
        net.l1.setWeight(1, 0, small * -k1 / 2)
        net.l1.setWeight(2, 0, small * -4 * k2)
        net.l2.setWeight(0, 0, 1)
        net.l3.setWeight(0, 0, 1 / small)
        return policy
    }

    @Test("at Pendulum-v1's upright position the open-loop Jacobian product grows 1.2133 per step (the linearization's eigenvalue) and a stabilizing feedback policy makes the closed loop shrink")
    func uprightJacobianGrowth() {
        let world = ExactPendulumWorld()
        let estimator = ImaginedReturnGradient<_, 3, 1>(world: world, observationBounds: [1, 1, 8], actionLow: [-2],
                                                       actionHigh: [2], maxHorizon: 100, maxLanes: 16, gamma: 0.99)
        let (k1, k2) = (10.0, 2.0)
        estimator.copyPolicy(from: Self.feedbackPolicy(k1: Float(k1), k2: Float(k2)))
        var settings = GradientDiagnosticsSettings()
        settings.horizons = [1, 10, 100]
        settings.starts = 16
        settings.batches = 2
        let upright = StartStateSampler(buffer: bufferOfStates([[1, 0, 0]]) as TransitionBuffer<3, 1>)
        let report = GradientDiagnostics.run(estimator: estimator, starts: upright, settings: settings)

        // Linearization of (θ, θ̇) at θ = 0 with dt = 0.05: θ̇' = θ̇ + 0.75 θ + 0.15 τ, θ' = θ + 0.05 θ̇'.
        let open = [1.0375, 0.05, 0.75, 1.0]
        let eigenvalue = (2.0375 + (2.0375 * 2.0375 - 4).squareRoot()) / 2
        #expect(abs(eigenvalue - 1.2133) < 1e-4)
        // τ = −k1 θ − k2 θ̇: θ̇' = (1 − 0.15 k2) θ̇ + (0.75 − 0.15 k1) θ.
        let a = 0.75 - 0.15 * k1, b = 1 - 0.15 * k2
        let closed = [1 + 0.05 * a, 0.05 * b, a, b]
        let last = report.rows[2]
        #expect(last.horizon == 100 && report.excludedJacobianRollouts == 0)
        #expect(abs(last.growthPerStep - exactGrowth(open, steps: 100)) < 1e-4 * exactGrowth(open, steps: 100))
        #expect(abs(last.growthPerStep - eigenvalue) < 0.02 * eigenvalue)
        #expect(abs(last.growthPerStepClosedLoop - exactGrowth(closed, steps: 100)) < 1e-3)
        #expect(last.growthPerStepClosedLoop < 0.87)  // |λ| = √det = √0.7 ≈ 0.837 for k = (10, 2)
        #expect(abs(report.rows[0].jacobianNorm - exactGrowth(open, steps: 1)) < 1e-5)
        #expect(abs(last.jacobianNormClosedLoopRMS - last.jacobianNormClosedLoop) < 1e-6 * last.jacobianNormClosedLoop)
    }

    @Test("the verdict calls pathwise gradients exploding when their variance outgrows (H_long / H_short)² tenfold, usable otherwise, and compares the SNRs")
    func verdictFollowsTheVarianceGrowth() {
        func report(varianceAt200 v: Double) -> GradientDiagnosticsReport {
            var r = GradientDiagnosticsReport()
            for (h, variance, snr) in [(5, 1.0, 10.0), (200, v, 0.01)] {
                var row = HorizonDiagnostics()
                row.horizon = h
                row.pathwise.variance = variance
                row.pathwise.snr = snr
                row.likelihoodRatio.snr = 0.1
                row.jacobianNormClosedLoopRMS = h == 200 ? 1e4 : 2
                row.jacobianNormClosedLoop = h == 200 ? 10 : 1.5
                r.rows.append(row)
            }
            return r
        }
        // (200 / 5)² = 1600: ten times that is the line.
        let exploding = report(varianceAt200: 2e4 * 1.0).verdict
        #expect(exploding.contains("pathwise gradients explode") && exploding.contains("reaches 1e+04 at H = 200"))
        #expect(exploding.contains("at 1 of 2 horizons"))
        #expect(report(varianceAt200: 1.5e4).verdict.contains("stay usable"))
        #expect(report(varianceAt200: 100).verdict.contains("fade"))
    }

    @Test("estimator statistics: norm of the mean, trace of the covariance, SNR and mean pairwise cosine of given estimates")
    func statisticsOfKnownEstimates() {
        let estimates: [Double] = [1, 0,  0, 1,  1, 1]  // three 2-d estimates
        let s = estimates.withUnsafeBufferPointer { EstimatorStatistics(estimates: $0.baseAddress!, batches: 3, dimension: 2) }
        // mean (2/3, 2/3); deviations (1/3, −2/3), (−2/3, 1/3), (1/3, 1/3): Σ‖·‖² = 5/9 + 5/9 + 2/9 = 4/3.
        #expect(abs(s.gradNorm - (8.0 / 9).squareRoot()) < 1e-12)
        #expect(abs(s.variance - 2.0 / 3) < 1e-12)
        #expect(abs(s.snr - (8.0 / 9) / (2.0 / 3)) < 1e-12)
        #expect(abs(s.cosine - (0 + 2 * (1 / 2.0.squareRoot())) / 3) < 1e-12)
    }

    @Test("the Jacobi eigenvalue routine finds the largest eigenvalue of a symmetric matrix")
    func largestEigenvalueOfKnownMatrix() {
        // Q diag(5, 2, −1) Qᵀ with Q a rotation about (1, 1, 1).
        let c = cos(0.7), s = sin(0.7), u = 1 / 3.0.squareRoot()
        let axis = [u, u, u]
        var q = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 {
                let cross: Double = i == j ? 0 : ((j - i + 3) % 3 == 1 ? -1 : 1) * axis[3 - i - j]
                q[i * 3 + j] = (i == j ? c : 0) + (1 - c) * axis[i] * axis[j] + s * cross
            }
        }
        let d = [5.0, 2, -1]
        var m = [Double](repeating: 0, count: 9)
        for r in 0..<3 { for c in 0..<3 { for j in 0..<3 { m[r * 3 + c] += q[r * 3 + j] * d[j] * q[c * 3 + j] } } }
        #expect(abs(m[1] - m[3]) < 1e-12 && abs(m[1]) > 0.1)  // symmetric, not diagonal
        #expect(abs(largestEigenvalue(symmetric: &m, dimension: 3) - 5) < 1e-12)
    }
}
