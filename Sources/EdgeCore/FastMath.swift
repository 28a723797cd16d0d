/// Vectorized elementary functions over `Vec`, written with operations that stay in SIMD registers
/// (no libm call per lane). Each one is checked against libm in EdgeCoreTests with the error bound
/// stated in its doc comment.

@usableFromInline let expMagic: Float = 12_582_912 // 1.5 * 2^23: adding it rounds to an integer

/// e^x for each lane. Relative error at most 2e-7 for x in [-87, 88]; inputs outside are clamped
/// there (results 1.6e-38 and 1.65e38), NaN stays NaN.
///
/// Range reduction x = k ln2 + r with |r| <= ln2/2, a degree-7 Taylor polynomial for e^r
/// (truncation error 7e-9 relative at the ends), and 2^k built in the exponent bits. Measured against
/// libm: 7.7e-8 relative with FMA, 1.03e-7 without (EdgeCoreTests).
@inlinable @inline(__always)
public func fastExp(_ x: Vec) -> Vec {
    var t = x.replacing(with: 88, where: x .> 88)
    t = t.replacing(with: -87, where: t .< -87)
    let shifted = madd(t, Vec(repeating: 1.442_695_04), Vec(repeating: expMagic))
    let k = shifted - Vec(repeating: expMagic)
    let r = madd(k, Vec(repeating: -1.428_606_820_3e-6), madd(k, Vec(repeating: -0.693_145_751_953_125), t))
    var p = Vec(repeating: 1.0 / 5040)
    p = madd(p, r, Vec(repeating: 1.0 / 720))
    p = madd(p, r, Vec(repeating: 1.0 / 120))
    p = madd(p, r, Vec(repeating: 1.0 / 24))
    p = madd(p, r, Vec(repeating: 1.0 / 6))
    p = madd(p, r, Vec(repeating: 0.5))
    p = madd(p, r, Vec(repeating: 1))
    p = madd(p, r, Vec(repeating: 1))
    let n = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(Vec(repeating: expMagic), to: SIMD8<Int32>.self)
    let scale = unsafeBitCast((n &+ 127) &<< 23, to: Vec.self)
    return p * scale
}

/// tanh for each lane. Absolute and relative error at most 3.5e-7 everywhere (2.8e-7 with fused
/// multiply-add, 3.3e-7 without, in tanh_fit.py's Float simulation: about five roundings of half an
/// ulp; the fit itself is 2.2e-8 and monotonic); odd exactly,
/// never outside [-1, 1], exactly ±1 beyond ±9, tiny and subnormal x unchanged, NaN stays NaN.
/// Monotonic up to rounding: near saturation neighbouring inputs can step down by a few ulps.
///
/// x² is clamped to 81 (tanh rounds to ±1 in Float from 9.01 on), then tanh(x) = x P(x²) / Q(x²),
/// clamped to [-1, 1], with P and Q degree-4 polynomials with P(0) = Q(0) = 1
/// and positive coefficients (Horner sums of positive terms do not cancel), a minimax fit of the
/// relative error by scripts/reference/tanh_fit.py. Cost per vector: 3 min/max (x² and output
/// clamps), 2 multiplies, 8 fused multiply-adds and 1 division, with no branch or exp; the old
/// exp-based form took about twice the floating-point operations (DESIGN.md section 3).
@inlinable @inline(__always)
public func fastTanh(_ x: Vec) -> Vec {
    // u = min(x², 81): beyond |x| = 9 the rational is evaluated at 9 and scaled by |x| / 9 ≥ 1, so the
    // output clamp gives exactly ±1 (also for ±inf); one min instead of clamping x on both sides.
    let square = x * x
    let u = square.replacing(with: 81, where: square .> 81)
    var p = Vec(repeating: 1.341_947_53e-08)
    p = madd(p, u, Vec(repeating: 2.066_106_21e-05))
    p = madd(p, u, Vec(repeating: 0.003_498_986_83))
    p = madd(p, u, Vec(repeating: 0.133_839_741))
    p = madd(p, u, Vec(repeating: 1))
    var q = Vec(repeating: 7.804_600_84e-07)
    q = madd(q, u, Vec(repeating: 0.000_329_102_098))
    q = madd(q, u, Vec(repeating: 0.025_890_175_3))
    q = madd(q, u, Vec(repeating: 0.467_172_951))
    q = madd(q, u, Vec(repeating: 1))
    // Near saturation the roundings can land up to one ulp past ±1 (1.0000001 at 8.99): keep the range.
    // (Each select tests the previous one's result, which LLVM turns into vminps + vmaxps; testing y
    // twice gave compare + min + blend.)
    let y = (x * p) / q
    let belowOne = y.replacing(with: 1, where: y .> 1)
    return belowOne.replacing(with: -1, where: belowOne .< -1)
}

/// The logistic function 1 / (1 + e^-x) for each lane; absolute error at most 2e-7.
@inlinable @inline(__always)
public func fastSigmoid(_ x: Vec) -> Vec {
    Vec(repeating: 1) / (Vec(repeating: 1) + fastExp(-x))
}
