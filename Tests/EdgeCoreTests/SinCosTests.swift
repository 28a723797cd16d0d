import CEdgeSys
import EdgeCore
import Foundation
import Testing

/// `edge_sincos` (the pendulum's observation) against libm's sin and cos: its own argument reduction
/// and Taylor polynomials must give the same Float observation, and the same Double to about an ulp.
@Suite struct SinCosTests {
    static func sinCos(_ x: Double) -> (Double, Double) {
        var s = 0.0, c = 0.0
        edge_sincos(x, &s, &c)
        return (s, c)
    }

    @Test("within 2.3e-16 of libm and the same Float, over 2 million angles up to ±1e6 rad")
    func matchesLibm() {
        var rng = RandomSource(seed: 7)
        var worst = 0.0
        var floatDifferences = 0
        let ranges: [Double] = [4, 100, 1e4, 9.9e5]
        for i in 0..<2_000_000 {
            let x = (2 * Double(rng.nextUniform()) - 1) * ranges[i % 4] + Double(rng.nextUniform()) * 1e-3
            let (s, c) = Self.sinCos(x)
            worst = max(worst, abs(s - sin(x)), abs(c - cos(x)))
            if Float(s) != Float(sin(x)) || Float(c) != Float(cos(x)) { floatDifferences += 1 }
        }
        #expect(worst <= 2.3e-16)
        #expect(floatDifferences <= 2, "the Float observation should match libm's (\(floatDifferences) differ)")
    }

    @Test("quadrant boundaries, zero, huge arguments, infinities and NaN")
    func specialValues() {
        for k in -8...8 {
            for x in [Double(k) * .pi / 4, (Double(k) * .pi / 4).nextUp, (Double(k) * .pi / 4).nextDown] {
                let (s, c) = Self.sinCos(x)
                #expect(abs(s - sin(x)) <= 2.3e-16 && abs(c - cos(x)) <= 2.3e-16, "x = \(x)")
            }
        }
        let (s0, c0) = Self.sinCos(-0.0)
        #expect(s0 == 0 && s0.sign == .minus && c0 == 1, "sin(-0) keeps its sign")
        for x in [1e6, -3e7, 1e300] {  // past the fast reduction: libm's
            let (s, c) = Self.sinCos(x)
            #expect(s == sin(x) && c == cos(x))
        }
        for x in [Double.infinity, -.infinity, .nan] {
            let (s, c) = Self.sinCos(x)
            #expect(s.isNaN && c.isNaN)
        }
    }
}
