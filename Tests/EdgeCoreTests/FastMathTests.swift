import EdgeCore
import Foundation
import Testing

/// Applies a vector function to every value, eight at a time (the tail vector padded with zeros).
func evaluate(_ f: (Vec) -> Vec, _ xs: [Float]) -> [Float] {
    var out = [Float](repeating: 0, count: xs.count)
    var i = 0
    while i < xs.count {
        var v = Vec(repeating: 0)
        for j in 0..<min(8, xs.count - i) { v[j] = xs[i + j] }
        let r = f(v)
        for j in 0..<min(8, xs.count - i) { out[i + j] = r[j] }
        i += 8
    }
    return out
}

/// Float values lo, lo + step, ... up to hi (computed in Double, then rounded).
func grid(_ lo: Double, _ hi: Double, step: Double) -> [Float] {
    let n = Int(((hi - lo) / step).rounded(.down))
    return (0...n).map { Float(lo + Double($0) * step) }
}

/// Every Float in [lo, hi] (lo, hi > 0).
func everyFloat(_ lo: Float, _ hi: Float) -> [Float] {
    var xs: [Float] = []
    var x = lo
    while x <= hi { xs.append(x); x = x.nextUp }
    return xs
}

/// `count` random Floats uniform in [lo, hi).
func randomFloats(_ count: Int, _ lo: Float, _ hi: Float, seed: UInt64) -> [Float] {
    var rng = RandomSource(seed: seed)
    return (0..<count).map { _ in rng.nextUniform(lo, hi) }
}

/// ±10^e for e in [−38, 0] in steps of 0.001: tiny and small inputs, where relative error matters.
func logGridAroundZero() -> [Float] {
    let positive = grid(-38, 0, step: 1e-3).map { Float(pow(10, Double($0))) }
    return positive + positive.map { -$0 }
}

struct MaxErrors {
    var absolute = 0.0, relative = 0.0
    var absoluteAt: Float = 0, relativeAt: Float = 0
    var nonFinite = 0
}

/// Max absolute and relative error of `f` against a Double reference (relative only where the
/// reference is nonzero).
func measure(_ f: (Vec) -> Vec, _ reference: (Double) -> Double, _ xs: [Float]) -> MaxErrors {
    let ys = evaluate(f, xs)
    var e = MaxErrors()
    for (x, y) in zip(xs, ys) {
        guard y.isFinite else { e.nonFinite += 1; continue }
        let r = reference(Double(x))
        let a = abs(Double(y) - r)
        if a > e.absolute { e.absolute = a; e.absoluteAt = x }
        if r != 0, a / abs(r) > e.relative { e.relative = a / abs(r); e.relativeAt = x }
    }
    return e
}

func report(_ name: String, _ e: MaxErrors) {
    logMeasurement("\(name): max absolute error \(e.absolute) at x = \(e.absoluteAt), "
          + "max relative error \(e.relative) at x = \(e.relativeAt)")
}

func exactSigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

@Suite("Vectorized math against libm")
struct FastMathTests {
    @Test("fastExp has relative error at most 2e-7 on a dense grid of [-87, 88] and on random inputs")
    func expRelativeError() {
        // Step 1e-4 puts points within 5e-5 of every range-reduction boundary (k + 1/2) ln 2, where the
        // polynomial's truncation error peaks; the random set catches anything between grid points.
        let xs = grid(-87, 88, step: 1e-4) + randomFloats(1 << 20, -87, 88, seed: 11) + [-87, 88]
        let e = measure(fastExp, exp, xs)
        report("fastExp on [-87, 88]", e)
        #expect(e.nonFinite == 0)
        #expect(e.relative <= FastMathBound.expRelative, "fastExp relative error \(e.relative) at \(e.relativeAt)")
    }

    @Test("fastExp is exact at 0, clamps outside [-87, 88] and keeps NaN")
    func expSpecialValues() {
        let r = fastExp(Vec(0, 100, -100, .infinity, -.infinity, .nan, 88, -87))
        #expect(r[0] == 1)
        #expect(r[1] == r[6] && r[3] == r[6], "inputs above 88 give fastExp(88)")
        #expect(r[2] == r[7] && r[4] == r[7], "inputs below -87 give fastExp(-87)")
        #expect(abs(Double(r[6]) / exp(88) - 1) <= FastMathBound.expRelative)
        #expect(abs(Double(r[7]) / exp(-87) - 1) <= FastMathBound.expRelative)
        #expect(r[7].isNormal, "the clamp keeps results out of the subnormal range")
        #expect(r[5].isNaN)
    }

    @Test("fastTanh has absolute error at most 2e-7 and relative error at most 3e-7 on [-20, 20], near 0 and at the branch switch")
    func tanhErrors() {
        // Dense uniform grid, a logarithmic grid down to 1e-38 (relative error near 0), every Float
        // in [0.62, 0.63] (the switch from the polynomial to the exp form at 0.625, both signs) and
        // random inputs.
        let switchRegion = everyFloat(0.62, 0.63)
        let xs = grid(-20, 20, step: 1e-4) + logGridAroundZero() + switchRegion + switchRegion.map { -$0 }
            + randomFloats(1 << 20, -20, 20, seed: 12) + randomFloats(1 << 18, -1, 1, seed: 13)
        let e = measure(fastTanh, tanh, xs)
        report("fastTanh on [-20, 20]", e)
        #expect(e.nonFinite == 0)
        #expect(e.absolute <= FastMathBound.tanhAbsolute, "fastTanh absolute error \(e.absolute) at \(e.absoluteAt)")
        #expect(e.relative <= FastMathBound.tanhRelative, "fastTanh relative error \(e.relative) at \(e.relativeAt)")
    }

    @Test("fastTanh is odd, saturates to exactly ±1 and keeps NaN")
    func tanhSpecialValues() {
        let xs = grid(-20, 20, step: 1e-3)
        let pos = evaluate(fastTanh, xs), neg = evaluate(fastTanh, xs.map { -$0 })
        #expect(zip(pos, neg).allSatisfy { $0 == -$1 }, "fastTanh(-x) == -fastTanh(x)")
        let r = fastTanh(Vec(0, 30, -30, .infinity, -.infinity, .nan, 1e-30, 0x1p-140))
        #expect(r[0] == 0 && r[1] == 1 && r[2] == -1 && r[3] == 1 && r[4] == -1)
        #expect(r[5].isNaN)
        #expect(r[6] == 1e-30 && r[7] == 0x1p-140, "tanh(x) rounds to x for tiny and subnormal x")
    }

    @Test("fastSigmoid has absolute error at most 2e-7 on [-30, 30] and stays in [0, 1] beyond")
    func sigmoidErrors() {
        let xs = grid(-30, 30, step: 1e-4) + randomFloats(1 << 20, -30, 30, seed: 14) + logGridAroundZero()
        let e = measure(fastSigmoid, exactSigmoid, xs)
        report("fastSigmoid on [-30, 30]", e)
        #expect(e.nonFinite == 0)
        #expect(e.absolute <= FastMathBound.sigmoidAbsolute, "fastSigmoid absolute error \(e.absolute) at \(e.absoluteAt)")

        let wide = measure(fastSigmoid, exactSigmoid, grid(-87, 88, step: 1e-3))
        report("fastSigmoid on [-87, 88] (relative error for information)", wide)

        let r = fastSigmoid(Vec(0, 200, -200, .infinity, -.infinity, .nan, 88, -88))
        #expect(r[0] == 0.5)
        #expect(r[1] == 1 && r[3] == 1)
        #expect(r[2] >= 0 && r[2] < 1e-37 && r[4] >= 0 && r[4] < 1e-37, "far left: below 1e-37, never negative")
        #expect(r[5].isNaN)
    }
}
