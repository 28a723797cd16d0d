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

    @Test("fastTanh has absolute and relative error at most 3.5e-7 on [-20, 20], near 0 and at the clamp")
    func tanhErrors() {
        // Dense uniform grid, a logarithmic grid down to 1e-38 (relative error near 0), every Float
        // in [8.99, 9.01] (the clamp at 9, both signs), every Float in [0.62, 0.63] and [2.5, 2.51]
        // (kept from the exp form's branch switch; mid-range values) and random inputs.
        let clampRegion = everyFloat(8.99, 9.01), mid = everyFloat(0.62, 0.63) + everyFloat(2.5, 2.51)
        let xs = grid(-20, 20, step: 1e-4) + logGridAroundZero() + clampRegion + clampRegion.map { -$0 }
            + mid + mid.map { -$0 }
            + randomFloats(1 << 20, -20, 20, seed: 12) + randomFloats(1 << 18, -1, 1, seed: 13)
            + randomFloats(1 << 20, -9, 9, seed: 15)
        let e = measure(fastTanh, tanh, xs)
        report("fastTanh on [-20, 20]", e)
        #expect(e.nonFinite == 0)
        #expect(e.absolute <= FastMathBound.tanhAbsolute, "fastTanh absolute error \(e.absolute) at \(e.absoluteAt)")
        #expect(e.relative <= FastMathBound.tanhRelative, "fastTanh relative error \(e.relative) at \(e.relativeAt)")
    }

    @Test("fastTanh never decreases by more than its rounding noise on a dense grid of [0, 10]")
    func tanhMonotonic() {
        // The fit itself is monotonic; rounding (five half-ulp roundings) can step down by a few ulps
        // near saturation (4 ulps = 4.8e-7 at 8.25), never by more than twice the error bound.
        let ys = evaluate(fastTanh, grid(0, 10, step: 1e-5))
        var worst: Float = 0
        for (a, b) in zip(ys, ys.dropFirst()) { worst = max(worst, a - b) }
        logMeasurement("fastTanh largest step down on [0, 10]: \(worst)")
        #expect(Double(worst) <= 2 * FastMathBound.tanhAbsolute)
        #expect(ys.allSatisfy { $0 <= 1 }, "never above 1")
    }

    @Test("fastTanh is odd, saturates to exactly ±1 and keeps NaN")
    func tanhSpecialValues() {
        let xs = grid(-20, 20, step: 1e-3)
        let pos = evaluate(fastTanh, xs), neg = evaluate(fastTanh, xs.map { -$0 })
        #expect(zip(pos, neg).allSatisfy { $0 == -$1 }, "fastTanh(-x) == -fastTanh(x)")
        let r = fastTanh(Vec(0, 30, -30, .infinity, -.infinity, .nan, 1e-30, 0x1p-140))
        #expect(r[0] == 0 && r[1] == 1 && r[2] == -1 && r[3] == 1 && r[4] == -1)
        let c = fastTanh(Vec(9, -9, 9.01, -9.01, 8.99, Float(9).nextUp, 1e30, -Float.greatestFiniteMagnitude))
        #expect(c[0] == 1 && c[1] == -1 && c[2] == 1 && c[3] == -1 && c[5] == 1 && c[6] == 1 && c[7] == -1,
                "exactly ±1 from the clamp at 9 on")
        #expect(c[4] <= 1, "never above 1 below the clamp either")
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
