import EdgeCore
import Foundation
import Testing

/// Unit roundoff of Float: a correctly rounded Float operation has relative error at most this.
let floatRoundoff: Double = 0x1p-24

/// γ(n) = n u / (1 − n u) (Higham, "Accuracy and Stability of Numerical Algorithms", §3.1): a sum of
/// products evaluated in Float with n roundings along any path, in any order, has absolute error at
/// most γ(n) · Σ|terms|.
func gamma(_ n: Int) -> Double {
    let nu = Double(n) * floatRoundoff
    return nu / (1 - nu)
}

/// Prints a measured number (an error maximum, how tight a bound was) when EDGE_CORE_TESTS_VERBOSE is
/// set: `EDGE_CORE_TESTS_VERBOSE=1 swift test -c release --filter EdgeCoreTests`.
func logMeasurement(_ line: @autoclosure () -> String) {
    if ProcessInfo.processInfo.environment["EDGE_CORE_TESTS_VERBOSE"] != nil { print("EdgeCoreTests " + line()) }
}

/// Error bounds of the vectorized math, the values FastMathTests asserts against libm (their doc
/// comments claim the same bounds). Other tests use them to bound how far a network computed with these
/// approximations may sit from the exact Double reference.
enum FastMathBound {
    /// fastExp relative error on [-87, 88].
    static let expRelative: Double = 2e-7
    /// fastTanh absolute error everywhere. Was 2e-7 (abs) / 3e-7 (rel) for the exp-based tanh (measured
    /// 1.2e-7 / 1.7e-7); the rational form (2x faster) measures 2.8e-7 (both) with fused multiply-add and
    /// 3.3e-7 without, five roundings of half an ulp on top of the fit's own 2.2e-8
    /// (scripts/reference/tanh_fit.py). For a policy or value network that is far
    /// below what matters: Float32 weights already carry 6e-8 relative rounding each, a 64-term
    /// pre-activation sum about 1e-6 of Float error, and gradient noise is orders of magnitude larger.
    static let tanhAbsolute: Double = 3.5e-7
    /// fastTanh relative error everywhere (see tanhAbsolute).
    static let tanhRelative: Double = 3.5e-7
    /// fastSigmoid absolute error everywhere.
    static let sigmoidAbsolute: Double = 2e-7
}

/// Zeroed Float memory from `allocateFloats`, freed with the object. Tests hold kernel inputs and
/// outputs in these so the kernels see the same 64-byte aligned, vector-padded memory as the library.
final class FloatBuffer {
    let count: Int
    let pointer: UnsafeMutablePointer<Float>

    init(_ count: Int) {
        self.count = count
        pointer = allocateFloats(count)
    }

    convenience init(_ values: [Float]) {
        self.init(values.count)
        for (i, v) in values.enumerated() { pointer[i] = v }
    }

    deinit { pointer.deallocate() }

    subscript(_ i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }

    /// Fills entries [0, n) with uniform values in [low, high).
    func fillUniform(_ rng: inout RandomSource, _ low: Float, _ high: Float, count n: Int? = nil) {
        for i in 0..<(n ?? count) { pointer[i] = rng.nextUniform(low, high) }
    }

    var array: [Float] { (0..<count).map { pointer[$0] } }
}

/// Largest |a[i] − b[i]| / max(|b[i]|, floor).
func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double = 0) -> Double {
    precondition(a.count == b.count)
    var worst = 0.0
    for i in a.indices { worst = max(worst, abs(a[i] - b[i]) / max(abs(b[i]), floor)) }
    return worst
}

/// Collects comparisons of computed values against references with per-value tolerances, so a test
/// records one expectation per kernel with the worst case in its message instead of thousands.
struct ToleranceCheck {
    let label: String
    private(set) var checked = 0
    private(set) var failures = 0
    private(set) var firstFailure = ""
    /// Largest |computed − reference| / tolerance seen: below 1 passes; it shows how tight the bound is.
    private(set) var worstRatio = 0.0

    init(_ label: String) { self.label = label }

    mutating func check(_ computed: Double, _ reference: Double, tolerance: Double, _ what: @autoclosure () -> String) {
        checked += 1
        let error = abs(computed - reference)
        let ratio = tolerance > 0 ? error / tolerance : (error == 0 ? 0 : .infinity)
        if !(ratio <= 1) {  // also catches NaN
            failures += 1
            if firstFailure.isEmpty {
                firstFailure = "\(what()): computed \(computed), reference \(reference), tolerance \(tolerance)"
            }
        }
        if ratio.isFinite { worstRatio = max(worstRatio, ratio) } else { worstRatio = .infinity }
    }

    var summary: String {
        "\(label): \(failures) of \(checked) outside tolerance; worst error/tolerance \(worstRatio). \(firstFailure)"
    }
    /// Records a yes/no condition as one more comparison.
    mutating func require(_ condition: Bool, _ what: @autoclosure () -> String) {
        check(condition ? 0 : 1, 0, tolerance: 0, what())
    }

    var passed: Bool { failures == 0 && checked > 0 }

    /// One expectation for all the comparisons. With EDGE_CORE_TESTS_VERBOSE set it also prints the
    /// summary, so the tightness of each bound (worst error/tolerance) can be read off a passing run.
    func expectPassed(sourceLocation: SourceLocation = #_sourceLocation) {
        logMeasurement(summary)
        #expect(passed, "\(summary)", sourceLocation: sourceLocation)
    }
}
