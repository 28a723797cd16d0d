import ArgumentParser
import EdgeIO
import EdgeLearning
import EdgeRuntime
import Foundation

/// `edge-ctl analyze`: diagnostics of what was learned.
struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Diagnostics of the learned models and policy.",
        subcommands: [AnalyzeGradients.self])
}

/// `edge-ctl analyze gradients`: pathwise vs likelihood-ratio gradients of the imagined return as the
/// horizon grows, and the state-Jacobian products behind them (DESIGN.md section 4).
struct AnalyzeGradients: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "Pathwise (backpropagation through the learned model) vs likelihood-ratio gradients of the imagined return as the horizon grows, with the open- and closed-loop Jacobian products.",
        discussion: """
        With --sim, trains on the simulated rig first (the same run as `edge-ctl train --sim` with these options, in memory); with --data DIR, analyzes a trained run read-only (its checkpoint's models and policy, its transition log's states; nothing is trained or written to DIR; pass the --set overrides the run was trained with). Then for each horizon H draws --batches independent batches of --starts imagined rollouts from real states and estimates the gradient of the imagined return with respect to the policy parameters both ways. Pathwise: reparameterized policy and model noise, one ensemble member per step shared by the batch, backpropagation through r_phi, f_psi and pi_theta (on a read-only copy of the models). Likelihood ratio: REINFORCE with a leave-one-out batch-mean baseline. The Jacobian products are measured along the rollouts of the longest horizon.

        Examples:
          edge-ctl analyze gradients --sim --policy initial
          edge-ctl analyze gradients --sim --start upright --json
          edge-ctl analyze gradients --data ~/.local/state/edge-ctl/pendulum/run-001 --policy initial
        """)

    @Flag(help: "Train on the simulated board first (or analyze a trained run with --data).")
    var sim = false

    @Option(help: "Analyze the trained run in this data directory read-only instead of training (--sim).")
    var data: String? = nil

    @Option(help: "Rig to train and analyze: pendulum, motor or cartpole.")
    var rig: RigKind = .pendulum

    @Option(help: "Seed of the training run and of the analysis' start states and noise.")
    var seed: UInt64 = 1

    @Option(name: .customLong("max-real-steps"), help: "Real plant steps of the training run.")
    var maxRealSteps: Int = 2_000

    @Option(name: .customLong("set"), help: "Override one training hyperparameter, e.g. --set horizon=50 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Policy to differentiate: trained (the agent's) or initial (freshly initialized).")
    var policy: AnalyzedPolicy = .trained

    @Option(help: "Start states: buffer (uniform over the real transitions) or upright (pendulum near θ = 0).")
    var start: AnalysisStart = .buffer

    @Option(help: "Rollouts (real start states) per batch.")
    var starts: Int = 64

    @Option(help: "Independent batches per horizon.")
    var batches: Int = 32

    @Option(help: "Comma-separated horizons.")
    var horizons: String = "1,2,5,10,20,50,100,200"

    @Option(help: "Where to write the SVG plot (log scales against H).")
    var svg: String = "gradients.svg"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard sim != (data != nil) else {
            throw ValidationError("pass --sim (train on the simulated board first) or --data DIR (analyze a trained run), not both")
        }
        guard maxRealSteps > 0 else { throw ValidationError("--max-real-steps must be at least 1") }
        guard starts >= 2 && starts <= 4_096 else { throw ValidationError("--starts must be in 2...4096") }
        guard batches >= 2 else { throw ValidationError("--batches must be at least 2") }
        _ = try horizonList()
    }

    func horizonList() throws -> [Int] {
        let values = horizons.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 10_000 }) else {
            throw ValidationError("--horizons must be a comma-separated list of integers in 1...10000, e.g. 1,5,25")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        var h = Hyperparameters()
        do throws(HyperparameterError) {
            for o in overrides { try h.apply(override: o) }
        } catch {
            throw ValidationError(error.message)
        }
        var options = TrainingOptions()
        options.seed = seed
        options.maxRealSteps = maxRealSteps
        var analysis = GradientAnalysisOptions()
        analysis.policy = policy
        analysis.start = start
        analysis.diagnostics.horizons = try horizonList()
        analysis.diagnostics.starts = starts
        analysis.diagnostics.batches = batches
        analysis.diagnostics.seed = seed
        let progress = ProgressLine(enabled: !quiet)
        let result: GradientAnalysis
        do {
            if let data {
                progress.note("edge-ctl: gradient analysis of \(data) (read-only; \(policy.rawValue) policy, \(start.rawValue) starts)")
                result = try analyzeGradients(directory: data, hyperparameters: h, analysis: analysis)
            } else {
                progress.note("edge-ctl: training on the simulated \(rig.rawValue) rig, seed \(seed), \(maxRealSteps) real steps, then the gradient analysis (\(policy.rawValue) policy, \(start.rawValue) starts)")
                result = try analyzeGradientsOnSimulator(rig: rig, options: options, hyperparameters: h,
                                                         analysis: analysis, observer: progress)
            }
        } catch {
            progress.finish()
            throw RuntimeError(error.message)
        }
        progress.finish()
        do {
            try FileSystem.writeAtomically(Array(result.report.svg.utf8), to: svg)
            progress.note("wrote \(svg)")
        } catch {
            progress.note("warning: \(error.message)")
        }
        if json {
            print(try result.jsonText(seed: seed))
        } else {
            print(result.text)
        }
    }
}

extension AnalyzedPolicy: ExpressibleByArgument {}
extension AnalysisStart: ExpressibleByArgument {}

extension GradientAnalysis {
    var text: String {
        let r = report, s = r.settings
        let run = dataDirectory.map { "run \($0) (read-only): " } ?? "trained "
        let head = String(format: "gradient analysis on the %@ rig: %@ policy, %@ starts, %d batches x %d rollouts, gamma %.3g; %@%d real steps (eval return %.1f); %.1f s",
                          training.rig.rawValue, r.policyLabel, r.startLabel, s.batches, s.starts, Double(s.gamma),
                          run, training.realSteps, training.evaluationMean, r.seconds)
        var lines = [head, "", r.table]
        if r.excludedJacobianRollouts > 0 {
            lines.append("(\(r.excludedJacobianRollouts) rollouts with a zero or non-finite Jacobian product left out of jac)")
        }
        lines.append("")
        lines.append(r.verdict)
        return lines.joined(separator: "\n")
    }

    func jsonText(seed: UInt64) throws -> String {
        func finite(_ x: Double) -> Any { x.isFinite ? x : NSNull() }
        func statistics(_ e: EstimatorStatistics) -> [String: Any] {
            ["grad_norm": finite(e.gradNorm), "variance": finite(e.variance), "snr": finite(e.snr),
             "cosine": finite(e.cosine)]
        }
        let r = report
        let object: [String: Any] = [
            "rig": training.rig.rawValue, "seed": seed, "policy": r.policyLabel, "start": r.startLabel,
            "data": dataDirectory.map { $0 as Any } ?? NSNull(),
            "starts": r.settings.starts, "batches": r.settings.batches, "gamma": Double(r.settings.gamma),
            "real_steps": training.realSteps, "eval_return_mean": Double(training.evaluationMean),
            "seconds": r.seconds, "definitions": GradientDiagnosticsReport.definitions, "regime": r.verdict,
            "horizons": r.rows.map { row -> [String: Any] in
                ["h": row.horizon, "imagined_return": finite(row.imaginedReturn),
                 "pathwise": statistics(row.pathwise), "likelihood_ratio": statistics(row.likelihoodRatio),
                 "jacobian_norm": finite(row.jacobianNorm), "jacobian_norm_closed_loop": finite(row.jacobianNormClosedLoop),
                 "jacobian_norm_rms": finite(row.jacobianNormRMS),
                 "jacobian_norm_closed_loop_rms": finite(row.jacobianNormClosedLoopRMS),
                 "jacobian_growth_per_step": finite(row.growthPerStep),
                 "jacobian_growth_per_step_closed_loop": finite(row.growthPerStepClosedLoop)]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}

extension GradientDiagnosticsReport {
    /// Two log-log panels side by side: variances and Jacobian-product norms, then SNRs, against H.
    var svg: String {
        let x = rows.map { Double($0.horizon) }
        func positive(_ values: [Double]) -> [Double] { values.map { $0 > 0 && $0.isFinite ? $0 : .nan } }
        let title = "\(policyLabel) policy, \(startLabel) starts"
        var spread = SVGPlot(title: "Gradient variance and Jacobian products (" + title + ")",
                             xLabel: "horizon H", yLabel: "log scale", logX: true, logY: true)
        spread.series = [
            .init(name: "pathwise variance", color: "#d62728", x: x, y: positive(rows.map { $0.pathwise.variance })),
            .init(name: "lik.-ratio variance", color: "#1f77b4", x: x, y: positive(rows.map { $0.likelihoodRatio.variance })),
            .init(name: "jacobian open loop", color: "#7f7f7f", x: x, y: positive(rows.map { $0.jacobianNorm })),
            .init(name: "jacobian closed loop", color: "#2ca02c", x: x, y: positive(rows.map { $0.jacobianNormClosedLoop })),
            .init(name: "closed loop, RMS", color: "#9467bd", x: x, y: positive(rows.map { $0.jacobianNormClosedLoopRMS })),
        ]
        var snr = SVGPlot(title: "Signal-to-noise ratio ‖mean‖² / variance", xLabel: "horizon H",
                          yLabel: "log scale", logX: true, logY: true)
        snr.series = [
            .init(name: "pathwise SNR", color: "#d62728", x: x, y: positive(rows.map { $0.pathwise.snr })),
            .init(name: "lik.-ratio SNR", color: "#1f77b4", x: x, y: positive(rows.map { $0.likelihoodRatio.snr })),
        ]
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1520\" height=\"440\">\n" + spread.render()
            + "<g transform=\"translate(760,0)\">\n" + snr.render() + "</g>\n</svg>\n"
    }
}
