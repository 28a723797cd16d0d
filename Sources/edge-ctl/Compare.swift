import ArgumentParser
import EdgeIO
import EdgeLearning
import EdgeRuntime
import Foundation

/// `edge-ctl compare`: policy optimizers side by side with the same real-step budget (issue 8).
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare policy optimizers on the simulated rig with the same real-step budget: PPO in imagination, the pathwise gradient through the learned model, the hybrid (a short pathwise horizon bootstrapped with a learned value), and model-free PPO on the real episodes.",
        discussion: """
        Each method trains from scratch once per seed (seeds --seed ..< --seed + --seeds) and is evaluated after every real episode on the rig's true state. ppo is `edge-ctl train` (PPO in imagination); pathwise spends each PPO iteration's imagined-step budget (rollouts x horizon) on --gradient-steps gradient steps of rollouts/k x horizon imagined steps (the finite-horizon imagined return); hybrid does the same with the pathwise gradient over --hybrid-horizon imagined steps plus a learned value at the last state (Dreamer-style; the value is fitted to TD(lambda) returns of the same rollouts: 4 x 67 x 15 by default); model-free updates PPO once on each real episode.

        Example:
          edge-ctl compare --sim --seeds 3
        """)

    @Flag(help: "Train on the simulated board (required: comparisons run on the simulator).")
    var sim = false

    @Option(help: "Rig: pendulum, motor or cartpole.")
    var rig: RigKind = .pendulum

    @Option(help: "Number of seeds per method.")
    var seeds: Int = 3

    @Option(help: "First seed.")
    var seed: UInt64 = 1

    @Option(name: .customLong("max-real-steps"), help: "Real plant steps per run.")
    var maxRealSteps: Int = 2_000

    @Option(name: .customLong("eval-episodes"), help: "Evaluation episodes after each iteration.")
    var evalEpisodes: Int = 10

    @Option(help: "Comma-separated methods: ppo, pathwise, hybrid, model-free.")
    var methods: String = "ppo,pathwise,hybrid,model-free"

    @Option(name: .customLong("gradient-steps"), help: "Pathwise and hybrid: gradient steps per PPO iteration's imagined-step budget (PPO takes 20 Adam steps per iteration).")
    var gradientSteps: Int = 4

    @Option(name: .customLong("hybrid-horizon"), help: "Hybrid: imagined steps differentiated before the value bootstrap.")
    var hybridHorizon: Int = 15

    @Option(name: .customLong("set"), help: "Override one hyperparameter, e.g. --set horizon=50 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Where to write the SVG learning curves.")
    var svg: String = "compare.svg"

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard sim else { throw ValidationError("compare runs on the simulated board: pass --sim") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard maxRealSteps > 0 else { throw ValidationError("--max-real-steps must be at least 1") }
        guard evalEpisodes >= 1 else { throw ValidationError("--eval-episodes must be at least 1") }
        guard gradientSteps >= 1 && gradientSteps <= 160 else { throw ValidationError("--gradient-steps must be in 1...160") }
        guard hybridHorizon >= 1 && hybridHorizon <= 1_000 else { throw ValidationError("--hybrid-horizon must be in 1...1000") }
        _ = try methodList()
    }

    func methodList() throws -> [PolicyOptimizer] {
        let names = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let list = names.compactMap(PolicyOptimizer.init(rawValue:))
        guard !list.isEmpty, list.count == names.count else {
            throw ValidationError("--methods must list some of: " + PolicyOptimizer.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return list
    }

    func run() throws {
        var h = Hyperparameters()
        do throws(HyperparameterError) {
            for o in overrides { try h.apply(override: o) }
        } catch {
            throw ValidationError(error.message)
        }
        let progress = ProgressLine(enabled: !quiet)
        var budget = GradientBudget()
        budget.stepsPerIteration = gradientSteps
        budget.hybridHorizon = hybridHorizon
        var results: [MethodResult] = []
        for method in try methodList() {
            var result = MethodResult(method: method)
            for s in seed..<(seed + UInt64(seeds)) {
                var options = TrainingOptions()
                options.seed = s
                options.maxRealSteps = maxRealSteps
                options.evaluationEpisodes = evalEpisodes
                progress.note("edge-ctl compare: \(method.rawValue), seed \(s), \(maxRealSteps) real steps on the simulated \(rig.rawValue) rig")
                do {
                    result.runs.append(try trainOnSimulator(rig: rig, optimizer: method, options: options,
                                                            hyperparameters: h, budget: budget, observer: progress))
                } catch {
                    progress.finish()
                    throw RuntimeError(error.message)
                }
                progress.finish()
            }
            results.append(result)
        }
        do {
            try FileSystem.writeAtomically(Array(learningCurves(results).render().utf8), to: svg)
            progress.note("wrote \(svg)")
        } catch {
            progress.note("warning: \(error.message)")
        }
        print(json ? try jsonText(results) : text(results))
    }

    func text(_ results: [MethodResult]) -> String {
        var lines = [String(format: "%@ rig, %d real steps, %d seed(s) from %llu; evaluation return on the true state (deterministic policy, %d episodes)",
                            rig.rawValue, maxRealSteps, seeds, seed, evalEpisodes),
                     "pathwise and hybrid: \(gradientSteps) gradient steps per PPO iteration's imagined-step budget; hybrid horizon \(hybridHorizon)", "",
                     "method        final eval (mean ± std over seeds)   best eval (mean)   seconds per run"]
        for r in results {
            lines.append(r.method.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)
                         + String(format: "  %10.1f ± %-6.1f                  %10.1f   %15.1f",
                                  r.finalMean, r.finalStd, r.bestMean, r.secondsMean))
        }
        return lines.joined(separator: "\n")
    }

    func jsonText(_ results: [MethodResult]) throws -> String {
        let object: [String: Any] = [
            "rig": rig.rawValue, "max_real_steps": maxRealSteps, "eval_episodes": evalEpisodes,
            "gradient_steps": gradientSteps, "hybrid_horizon": hybridHorizon,
            "methods": results.map { r -> [String: Any] in
                ["method": r.method.rawValue, "final_eval_mean": r.finalMean, "final_eval_std": r.finalStd,
                 "best_eval_mean": r.bestMean, "seconds_mean": r.secondsMean,
                 "runs": r.runs.map { s -> [String: Any] in
                     ["seed": s.seed, "eval_return": Double(s.evaluationMean), "wall_seconds": s.wallSeconds,
                      "curve": s.curve.map { ["real_steps": $0.realSteps, "eval_return_mean": Double($0.evaluationMean)] }]
                 }]
            },
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// Mean evaluation return over seeds against real steps, ± the spread over seeds, one line per method.
    func learningCurves(_ results: [MethodResult]) -> SVGPlot {
        var plot = SVGPlot(title: "edge-ctl compare: \(rig.rawValue), \(seeds) seed(s)", xLabel: "real steps",
                           yLabel: "evaluation return (true state)")
        let colors: [PolicyOptimizer: String] = [.ppo: "#1f77b4", .pathwise: "#d62728", .hybrid: "#ff7f0e",
                                                       .modelFree: "#7f7f7f"]
        for r in results {
            let length = r.runs.map(\.curve.count).min() ?? 0
            let x = (0..<length).map { Double(r.runs[0].curve[$0].realSteps) }
            let columns = (0..<length).map { i in r.runs.map { Double($0.curve[i].evaluationMean) } }
            plot.series.append(.init(name: r.method.rawValue, color: colors[r.method] ?? "#000", x: x,
                                     y: columns.map(MethodResult.mean), spread: columns.map(MethodResult.std)))
        }
        return plot
    }
}

extension PolicyOptimizer: ExpressibleByArgument {}

/// The runs of one method over the seeds.
struct MethodResult {
    let method: PolicyOptimizer
    var runs: [TrainingSummary] = []

    var finalMean: Double { Self.mean(runs.map { Double($0.evaluationMean) }) }
    var finalStd: Double { Self.std(runs.map { Double($0.evaluationMean) }) }
    var bestMean: Double { Self.mean(runs.map { Double($0.curve.map(\.evaluationMean).max() ?? 0) }) }
    var secondsMean: Double { Self.mean(runs.map(\.wallSeconds)) }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count) }
    static func std(_ v: [Double]) -> Double {
        let m = mean(v)
        return v.isEmpty ? 0 : (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count)).squareRoot()
    }
}
