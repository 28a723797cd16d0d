import CEdgeSys
import EdgeCore

/// Real start states for the diagnostic's rollouts: rows of a transition buffer (all of them, or a
/// chosen subset such as the states near the pendulum's upright position), drawn uniformly with
/// replacement.
public struct StartStateSampler<let Obs: Int, let Act: Int> {
    public let buffer: TransitionBuffer<Obs, Act>
    /// Rows to draw from.
    public let rows: [Int32]

    /// Every row of `buffer` (which must not be empty).
    public init(buffer: TransitionBuffer<Obs, Act>) {
        self.init(buffer: buffer, rows: (0..<buffer.count).map { Int32($0) })
    }

    /// The given rows of `buffer` (at least one).
    public init(buffer: TransitionBuffer<Obs, Act>, rows: [Int32]) {
        precondition(!rows.isEmpty, "no start states to draw from")
        self.buffer = buffer
        self.rows = rows
    }

    /// `count` observations drawn uniformly from `rows` into obs[Obs][lanes] (zero from `count` on).
    public func fill(count: Int, lanes: Int, rng: inout RandomSource, into obs: UnsafeMutablePointer<Float>) {
        let picked = (0..<count).map { _ in rows[rng.nextInt(below: rows.count)] }
        picked.withUnsafeBufferPointer { p in
            buffer.gather(rows: p.baseAddress!, count: count, lanes: lanes, obs: obs, action: nil, reward: nil,
                          nextObs: nil)
        }
    }
}

/// What the horizon sweep does.
public struct GradientDiagnosticsSettings {
    /// Imagination horizons H to measure.
    public var horizons = [1, 2, 5, 10, 20, 50, 100, 200]
    /// Rollouts (real start states) per batch: one gradient estimate averages this many.
    public var starts = 64
    /// Independent batches per horizon: the statistics are over these estimates.
    public var batches = 32
    /// Discount γ of the imagined return.
    public var gamma: Float = 0.99
    /// Seed of the start-state draws and of all policy and model noise.
    public var seed: UInt64 = 1

    public init() {}
}

/// How one gradient estimator behaved over the batches at one horizon. Each batch gives one estimate
/// g_b of ∇θ J (averaged over `starts` rollouts).
public struct EstimatorStatistics {
    /// ‖mean over batches of g_b‖.
    public var gradNorm: Double = 0
    /// Total variance of one batch estimate: trace of the covariance of g_b across batches,
    /// Σ_b ‖g_b − ḡ‖² / (batches − 1).
    public var variance: Double = 0
    /// Signal-to-noise ratio of one batch estimate: ‖ḡ‖² / variance.
    public var snr: Double = 0
    /// Mean over pairs of batches of cos(g_b, g_c): 1 when independent estimates agree, 0 when they
    /// are unrelated.
    public var cosine: Double = 0

    public init() {}

    /// The statistics of `batches` vectors of `dimension` entries, stored one after another.
    public init(estimates g: UnsafePointer<Double>, batches m: Int, dimension d: Int) {
        precondition(m >= 2, "statistics need at least 2 batches")
        var mean = [Double](repeating: 0, count: d)
        for b in 0..<m { for i in 0..<d { mean[i] += g[b * d + i] } }
        for i in 0..<d { mean[i] /= Double(m) }
        var meanSquared: Double = 0
        for i in 0..<d { meanSquared += mean[i] * mean[i] }
        var spread: Double = 0
        var norms = [Double](repeating: 0, count: m)
        for b in 0..<m {
            var squared: Double = 0
            for i in 0..<d {
                let e = g[b * d + i] - mean[i]
                spread += e * e
                squared += g[b * d + i] * g[b * d + i]
            }
            norms[b] = squared.squareRoot()
        }
        var cosineSum: Double = 0, pairs = 0
        for b in 0..<m {
            for c in (b + 1)..<m {
                var dot: Double = 0
                for i in 0..<d { dot += g[b * d + i] * g[c * d + i] }
                let denominator = norms[b] * norms[c]
                cosineSum += denominator > 0 ? dot / denominator : 0
                pairs += 1
            }
        }
        gradNorm = meanSquared.squareRoot()
        variance = spread / Double(m - 1)
        snr = variance > 0 ? meanSquared / variance : .infinity
        cosine = cosineSum / Double(pairs)
    }
}

/// The measurements at one horizon.
public struct HorizonDiagnostics {
    public var horizon = 0
    /// Mean imagined return J over all rollouts (raw reward units, discounted).
    public var imaginedReturn: Double = 0
    public var pathwise = EstimatorStatistics()
    public var likelihoodRatio = EstimatorStatistics()
    /// Spectral norm of ∏_{t<H} ∂s_{t+1}/∂s_t with the actions held fixed (the model alone): geometric
    /// mean over rollouts (the typical rollout).
    public var jacobianNorm: Double = 0
    /// The same for the closed loop ∂f/∂s + ∂f/∂a ∂a/∂s (model and policy together).
    public var jacobianNormClosedLoop: Double = 0
    /// Root mean square over rollouts of the open-loop norm: dominated by the rollouts whose products
    /// grow most, which is what the pathwise variance sees.
    public var jacobianNormRMS: Double = 0
    /// Root mean square over rollouts of the closed-loop norm.
    public var jacobianNormClosedLoopRMS: Double = 0

    public init() {}

    /// Geometric mean growth per step of the open-loop product: jacobianNorm^(1/H).
    public var growthPerStep: Double { Self.perStep(jacobianNorm, horizon) }
    /// Geometric mean growth per step of the closed-loop product.
    public var growthPerStepClosedLoop: Double { Self.perStep(jacobianNormClosedLoop, horizon) }
    /// Growth per step of the closed-loop RMS norm: jacobianNormClosedLoopRMS^(1/H).
    public var growthPerStepClosedLoopRMS: Double { Self.perStep(jacobianNormClosedLoopRMS, horizon) }

    static func perStep(_ norm: Double, _ h: Int) -> Double { h > 0 && norm > 0 ? exp(log(norm) / Double(h)) : 0 }
}

/// The result of a horizon sweep, with a terminal table and a one-sentence verdict.
public struct GradientDiagnosticsReport {
    public var settings = GradientDiagnosticsSettings()
    /// Which policy was measured ("trained", "initial") and where rollouts started ("buffer", "upright").
    public var policyLabel = ""
    public var startLabel = ""
    /// One row per horizon, in the order of `settings.horizons`.
    public var rows: [HorizonDiagnostics] = []
    /// Rollouts whose Jacobian product was not finite or was zero, left out of the Jacobian columns.
    public var excludedJacobianRollouts = 0
    public var seconds: Double = 0

    public init() {}

    /// The definition of every column, printed under the table.
    public static var definitions: String {
        """
        J = mean imagined return; pw = pathwise, lr = likelihood ratio; grad = ‖mean of the batch \
        estimates‖; var = trace of their covariance (the variance of one batch estimate); snr = grad² / var; \
        cos = mean cosine between independent batch estimates; jac = ‖∏_{t<H} ∂s_{t+1}/∂s_t‖₂ (open: actions \
        held fixed; closed: through the policy), geometric mean over rollouts, /step = jac^(1/H); rms = root \
        mean square over rollouts of the closed-loop norm
        """
    }

    /// A fixed-width table, one line per horizon, and the column definitions.
    public var table: String {
        let header = [pad("H", 4), pad("J", 9), "|", pad("pw grad", 9), pad("pw var", 9), pad("pw snr", 9),
                      pad("pw cos", 6), "|", pad("lr grad", 9), pad("lr var", 9), pad("lr snr", 9),
                      pad("lr cos", 6), "|", pad("jac open", 9), pad("/step", 6), pad("closed", 9),
                      pad("/step", 6), pad("rms", 9)]
        var lines = [header.joined(separator: " ")]
        for r in rows {
            let cells = [pad("\(r.horizon)", 4), pad(number(r.imaginedReturn, 4), 9), "|",
                         pad(number(r.pathwise.gradNorm), 9), pad(number(r.pathwise.variance), 9),
                         pad(number(r.pathwise.snr), 9), pad(number(r.pathwise.cosine, 2), 6), "|",
                         pad(number(r.likelihoodRatio.gradNorm), 9), pad(number(r.likelihoodRatio.variance), 9),
                         pad(number(r.likelihoodRatio.snr), 9), pad(number(r.likelihoodRatio.cosine, 2), 6), "|",
                         pad(number(r.jacobianNorm), 9), pad(number(r.growthPerStep, 3), 6),
                         pad(number(r.jacobianNormClosedLoop), 9), pad(number(r.growthPerStepClosedLoop, 3), 6),
                         pad(number(r.jacobianNormClosedLoopRMS), 9)]
            lines.append(cells.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n" + Self.definitions
    }

    /// One plain sentence on the regime the plant's model and this policy are in. The measured pathwise
    /// variance decides it: from the shortest to the longest horizon it is compared with the factor
    /// (H_long / H_short)² that a sum of H terms with bounded Jacobians could at most grow by; ten times
    /// more is "explode", a tenth of it or less "vanish". The closed-loop Jacobian product (RMS over
    /// rollouts, at the horizon where it is largest) is named as the mechanism, and both SNRs compared.
    public var verdict: String {
        guard let first = rows.min(by: { $0.horizon < $1.horizon }),
              let last = rows.max(by: { $0.horizon < $1.horizon }), last.horizon > first.horizon,
              let peak = rows.max(by: { $0.jacobianNormClosedLoopRMS < $1.jacobianNormClosedLoopRMS }) else {
            return "not enough horizons for a verdict."
        }
        let varianceGrowth = first.pathwise.variance > 0 ? last.pathwise.variance / first.pathwise.variance : 0
        let steps = Double(last.horizon) / Double(first.horizon)
        let bounded = steps * steps
        let jacobian = "the closed-loop Jacobian product reaches " + number(peak.jacobianNormClosedLoopRMS)
            + " at H = \(peak.horizon) (RMS over rollouts, " + number(peak.growthPerStepClosedLoopRMS, 3)
            + "x per step; typical rollout " + number(peak.growthPerStepClosedLoop, 3) + "x, open loop "
            + number(peak.growthPerStep, 3) + "x)"
        let variance = "the pathwise variance grew x" + number(varianceGrowth, 2) + " from H = \(first.horizon) to H = "
            + "\(last.horizon), against x" + number(bounded, 2) + " for bounded Jacobians"
        let regime: String
        if varianceGrowth > 10 * bounded {
            regime = jacobian + ": pathwise gradients explode with the horizon (" + variance
                + "); PPO in imagination does not depend on them"
        } else if varianceGrowth < bounded / 10 {
            regime = jacobian + ": pathwise gradients fade with the horizon (" + variance + ")"
        } else {
            regime = jacobian + ": pathwise gradients stay usable along these rollouts (" + variance + ")"
        }
        let better = rows.filter { $0.pathwise.snr > $0.likelihoodRatio.snr }.count
        return regime + "; the pathwise SNR beats the likelihood-ratio SNR at \(better) of \(rows.count) horizons "
            + "(at H = \(last.horizon): " + number(last.pathwise.snr) + " vs " + number(last.likelihoodRatio.snr) + ")."
    }

    func number(_ x: Double, _ digits: Int = 3) -> String { formatFloat(x, digits: digits) }

    func pad(_ text: String, _ width: Int) -> String {
        let n = text.unicodeScalars.count
        return n >= width ? text : String(repeating: " ", count: width - n) + text
    }
}

/// The horizon sweep of the gradient diagnostic (issue 8; DESIGN.md section 4, "curse of chaos"): for
/// each horizon H, `batches` independent batches of `starts` imagined rollouts from real start states;
/// per batch one pathwise and one likelihood-ratio estimate of ∇θ J from the same rollouts; then the
/// statistics of each estimator across batches. The state-Jacobian products are measured along the
/// rollouts of the longest horizon (every batch), at each horizon as a prefix.
public enum GradientDiagnostics {
    public static func run<World: DifferentiableWorldModel, let Obs: Int, let Act: Int>(
        estimator: ImaginedReturnGradient<World, Obs, Act>, starts: StartStateSampler<Obs, Act>,
        settings: GradientDiagnosticsSettings
    ) -> GradientDiagnosticsReport {
        let horizons = settings.horizons
        let longest = horizons.max() ?? 0
        precondition(!horizons.isEmpty && horizons.allSatisfy { $0 > 0 } && longest <= estimator.maxHorizon,
                     "horizons must be positive and within the estimator's maxHorizon")
        precondition(settings.starts >= 2 && paddedToLanes(settings.starts) <= estimator.maxLanes,
                     "starts must be at least 2 and fit the estimator's lanes")
        precondition(settings.batches >= 2, "at least 2 batches")
        let start = edge_monotonic_ns()
        estimator.gamma = settings.gamma
        var rng = RandomSource(seed: settings.seed)
        let d = estimator.parameterCount, m = settings.batches, n = settings.starts
        var pathwise = [Double](repeating: 0, count: m * d), likelihood = pathwise
        var report = GradientDiagnosticsReport()
        report.settings = settings
        var products = JacobianProducts(dimension: Obs, rollouts: n, lanes: paddedToLanes(n), horizons: horizons)
        for h in horizons {
            var row = HorizonDiagnostics()
            row.horizon = h
            var returns: Double = 0
            for b in 0..<m {
                starts.fill(count: n, lanes: paddedToLanes(n), rng: &rng, into: estimator.startStates)
                returns += estimator.rollout(count: n, horizon: h, rng: &rng)
                pathwise.withUnsafeMutableBufferPointer { estimator.pathwiseGradient(into: $0.baseAddress! + b * d) }
                likelihood.withUnsafeMutableBufferPointer {
                    estimator.likelihoodRatioGradient(into: $0.baseAddress! + b * d)
                }
                if h == longest && products.measuredBatches < m { products.measure(estimator) }
            }
            row.imaginedReturn = returns / Double(m)
            row.pathwise = pathwise.withUnsafeBufferPointer {
                EstimatorStatistics(estimates: $0.baseAddress!, batches: m, dimension: d)
            }
            row.likelihoodRatio = likelihood.withUnsafeBufferPointer {
                EstimatorStatistics(estimates: $0.baseAddress!, batches: m, dimension: d)
            }
            report.rows.append(row)
        }
        for i in report.rows.indices {
            guard let k = horizons.firstIndex(of: report.rows[i].horizon) else { continue }
            report.rows[i].jacobianNorm = JacobianProducts.geometricMean(products.logNorms[k].open)
            report.rows[i].jacobianNormClosedLoop = JacobianProducts.geometricMean(products.logNorms[k].closed)
            report.rows[i].jacobianNormRMS = JacobianProducts.rootMeanSquare(products.logNorms[k].open)
            report.rows[i].jacobianNormClosedLoopRMS = JacobianProducts.rootMeanSquare(products.logNorms[k].closed)
        }
        report.excludedJacobianRollouts = products.excluded
        report.seconds = Double(edge_monotonic_ns() - start) * 1e-9
        return report
    }
}

/// Running products of the per-step state Jacobians of each rollout (open and closed loop), kept as a
/// Double matrix rescaled to max-entry 1 plus a log scale, so 200 steps of growth neither overflow nor
/// underflow; at each requested horizon the log spectral norm of every rollout's product is kept.
struct JacobianProducts {
    let dimension, rollouts, lanes: Int
    let horizons: [Int]
    var measuredBatches = 0
    /// Rollouts with a zero or non-finite product at some horizon (left out there).
    var excluded = 0
    /// Per requested horizon: log ‖P‖₂ of every finite rollout measured.
    var logNorms: [(open: [Double], closed: [Double])]

    init(dimension: Int, rollouts: Int, lanes: Int, horizons: [Int]) {
        self.dimension = dimension
        self.rollouts = rollouts
        self.lanes = lanes
        self.horizons = horizons
        logNorms = horizons.map { _ in ([], []) }
    }

    /// Multiplies along the estimator's last rollout, step by step, and records the norms at the horizons.
    mutating func measure<World: DifferentiableWorldModel, let Obs: Int, let Act: Int>(
        _ estimator: ImaginedReturnGradient<World, Obs, Act>
    ) {
        let k = dimension, kk = k * k
        var open = [Double](repeating: 0, count: lanes * kk), closed = open
        var stepOpen = open, stepClosed = open
        var scaleOpen = [Double](repeating: 0, count: rollouts), scaleClosed = scaleOpen
        for l in 0..<rollouts { for i in 0..<k { open[l * kk + i * k + i] = 1; closed[l * kk + i * k + i] = 1 } }
        var excludedHere = [Bool](repeating: false, count: rollouts)
        for t in 0..<estimator.horizon {
            stepOpen.withUnsafeMutableBufferPointer { o in
                stepClosed.withUnsafeMutableBufferPointer { c in
                    estimator.stateJacobians(step: t, open: o.baseAddress!, closed: c.baseAddress!)
                }
            }
            for l in 0..<rollouts {
                scaleOpen[l] += Self.multiply(stepOpen, into: &open, at: l * kk, dimension: k)
                scaleClosed[l] += Self.multiply(stepClosed, into: &closed, at: l * kk, dimension: k)
            }
            guard let index = horizons.firstIndex(of: t + 1) else { continue }
            for l in 0..<rollouts {
                let a = scaleOpen[l] + Self.logSpectralNorm(open, at: l * kk, dimension: k)
                let b = scaleClosed[l] + Self.logSpectralNorm(closed, at: l * kk, dimension: k)
                if a.isFinite { logNorms[index].open.append(a) } else { excludedHere[l] = true }
                if b.isFinite { logNorms[index].closed.append(b) } else { excludedHere[l] = true }
            }
        }
        excluded += excludedHere.filter { $0 }.count
        measuredBatches += 1
    }

    /// exp(mean of the logs); 0 for none.
    static func geometricMean(_ logs: [Double]) -> Double {
        logs.isEmpty ? 0 : exp(logs.reduce(0, +) / Double(logs.count))
    }

    /// √(mean of exp(2 log)), computed around the largest log so nothing overflows; 0 for none.
    static func rootMeanSquare(_ logs: [Double]) -> Double {
        guard let top = logs.max() else { return 0 }
        let meanSquare = logs.reduce(0) { $0 + exp(2 * ($1 - top)) } / Double(logs.count)
        return exp(top + 0.5 * log(meanSquare))
    }

    /// P ← J P for the k×k blocks at `offset` (row-major), then rescales P to max |entry| 1; returns the
    /// log of the factor taken out (−∞ if P became zero, NaN if it is not finite).
    static func multiply(_ j: [Double], into p: inout [Double], at offset: Int, dimension k: Int) -> Double {
        var product = [Double](repeating: 0, count: k * k)
        var largest: Double = 0
        for r in 0..<k {
            for c in 0..<k {
                var s: Double = 0
                for i in 0..<k { s += j[offset + r * k + i] * p[offset + i * k + c] }
                product[r * k + c] = s
                largest = max(largest, abs(s))
            }
        }
        guard largest > 0 && largest.isFinite else {
            for i in 0..<(k * k) { p[offset + i] = product[i] }
            return largest == 0 ? -.infinity : .nan
        }
        for i in 0..<(k * k) { p[offset + i] = product[i] / largest }
        return log(largest)
    }

    /// log of the largest singular value of the k×k block at `offset`: ½ log λmax(PᵀP).
    static func logSpectralNorm(_ p: [Double], at offset: Int, dimension k: Int) -> Double {
        var gram = [Double](repeating: 0, count: k * k)
        for r in 0..<k {
            for c in 0..<k {
                var s: Double = 0
                for i in 0..<k { s += p[offset + i * k + r] * p[offset + i * k + c] }
                gram[r * k + c] = s
            }
        }
        return 0.5 * log(largestEigenvalue(symmetric: &gram, dimension: k))
    }
}

/// The largest eigenvalue of a symmetric k×k matrix (row-major, destroyed) by cyclic Jacobi rotations
/// (Golub and Van Loan, section 8.5), sweeping until the off-diagonal mass is below 1e-14 of the total.
/// O(k³) per sweep; k is a state dimension, so this is tiny.
public func largestEigenvalue(symmetric a: inout [Double], dimension k: Int) -> Double {
    precondition(a.count >= k * k && k > 0, "need a k×k matrix")
    for _ in 0..<100 {
        var off: Double = 0, total: Double = 0
        for r in 0..<k {
            for c in 0..<k {
                let square = a[r * k + c] * a[r * k + c]
                total += square
                if r != c { off += square }
            }
        }
        if off <= 1e-28 * total || !(total.isFinite) { break }
        for p in 0..<k {
            for q in (p + 1)..<k where a[p * k + q] != 0 {
                let theta = (a[q * k + q] - a[p * k + p]) / (2 * a[p * k + q])
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for i in 0..<k {  // A ← Jᵀ A J: columns p and q, then rows p and q
                    let aip = a[i * k + p], aiq = a[i * k + q]
                    a[i * k + p] = c * aip - s * aiq
                    a[i * k + q] = s * aip + c * aiq
                }
                for i in 0..<k {
                    let api = a[p * k + i], aqi = a[q * k + i]
                    a[p * k + i] = c * api - s * aqi
                    a[q * k + i] = s * api + c * aqi
                }
            }
        }
    }
    var largest = -Double.infinity
    for i in 0..<k { largest = max(largest, a[i * k + i]) }
    return largest
}
