import EdgeIO
import EdgeLearning
import EdgeRuntime

/// `edge-ctl train` (the default command): the host CLI's flags (Sources/edge-ctl/Train.swift) and the
/// same training loop, `trainOnSimulator`, shared through EdgeRuntime.
enum TrainCommand {
    static let spec = CommandSpec(
        path: "edge-ctl train",
        abstract: "Learn a controller (the default command): collect real episodes, fit the dynamics and reward models, improve the policy with PPO in imagination.",
        options: [
            .flag("--sim", "Use the simulated board (short for --board sim)."),
            .option("--board", "board", "Board to run on (a name from `edge-ctl boards`). Only 'sim' trains today."),
            .option("--rig", "rig", "Rig to control: pendulum, motor or cartpole. (default: pendulum)"),
            .option("--seed", "seed", "Seed of every random choice: the same seed gives the same run. (default: 1)"),
            .option("--iterations", "iterations", "Outer iterations at most (one real episode each). (default: 1000)"),
            .option("--max-real-steps", "max-real-steps", "Real plant steps at most. (default: 2000)"),
            .option("--eval-episodes", "eval-episodes", "Evaluation episodes after each iteration. (default: 10)"),
            .option("--random-episodes", "random-episodes", "Episodes of random actions before the policy acts. (default: 1)"),
            .option("--data", "data", "Data directory for transitions and checkpoints (default: a new run-NNN under $XDG_STATE_HOME/edge-ctl/<rig>, or the latest one with --resume)."),
            .flag("--resume", "Continue the run in the data directory from its last checkpoint, keeping every synced transition."),
            .flag("--lockstep", "Run collection and learning in lockstep (deterministic). The simulator always does today; the asynchronous learner is for hardware."),
            .flag("--known-reward", "Imagine with the rig's known reward function instead of learning r_phi."),
            .option("--config", "config", "A file of hyperparameters, one 'key = value' per line (see --list-hyperparameters)."),
            .option("--set", "set", "Override one hyperparameter, e.g. --set horizon=50 (repeatable)."),
            .flag("--list-hyperparameters", "Print every hyperparameter with its default and exit."),
            .flag("--json", "Print one JSON object at the end instead of the text summary."),
            .flag("--quiet", "No progress output."),
        ],
        discussion: """
        Examples:
          edge-ctl --sim                                   pendulum swing-up on the simulated board
          edge-ctl train --sim --rig motor --seed 3 --json
          edge-ctl train --sim --set horizon=50 --set models.ensembleSize=7
        """)

    /// Runs `edge-ctl train ARGUMENTS...`; returns the text for standard output.
    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }

        var options = TrainingOptions()
        let rig = try arguments.choice("--rig", default: RigKind.pendulum, from: DataOptions.rigs)
        options.seed = try arguments.unsigned("--seed") ?? options.seed
        options.iterations = try arguments.integer("--iterations", default: options.iterations, in: 1...Int.max)
        options.maxRealSteps = try arguments.integer("--max-real-steps", default: options.maxRealSteps, in: 1...Int.max)
        options.evaluationEpisodes = try arguments.integer("--eval-episodes", default: options.evaluationEpisodes, in: 0...Int.max)
        options.randomEpisodes = try arguments.integer("--random-episodes", default: options.randomEpisodes, in: 0...Int.max)
        if let board = arguments.string("--board"), board != "sim" {
            throw spec.usageError("training on board '\(board)' needs the runtime (hardware control loop); use --sim")
        }
        let hyperparameters = try Self.hyperparameters(arguments)
        if arguments.flag("--list-hyperparameters") { return hyperparameters.configText() }

        let resume = arguments.flag("--resume")
        let directory: String
        do { directory = try DataDirectory.forTraining(data: arguments.string("--data"), resume: resume, rig: rig) } catch {
            throw CommandFailure("error: " + error.message)
        }
        options.dataDirectory = directory
        options.resume = resume

        let progress = ProgressLines(enabled: !arguments.flag("--quiet"))
        progress.note("edge-ctl: \(resume ? "resuming" : "training") on the simulated \(rig.rawValue) rig, seed \(options.seed), up to \(options.maxRealSteps) real steps; data in \(directory); SIMD: \(simdPathSummary)")
        let summary: TrainingSummary
        do {
            summary = try trainOnSimulator(rig: rig, knownReward: arguments.flag("--known-reward"), options: options,
                                           hyperparameters: hyperparameters, observer: progress)
        } catch {
            throw CommandFailure("error: " + error.message)
        }
        if summary.recoveredRecords > 0 || summary.droppedTailBytes > 0 {
            progress.note("recovered \(summary.recoveredRecords) transitions from \(directory)/transitions.log"
                          + (summary.droppedTailBytes > 0 ? " (dropped a torn tail of \(summary.droppedTailBytes) bytes)" : ""))
        }
        let curvePath = directory + "/learning-curve.svg"
        do {
            try summary.learningCurvePlot.write(to: curvePath)
            progress.note("wrote \(curvePath)")
        } catch {
            progress.note("warning: " + error.message)
        }
        return arguments.flag("--json") ? summary.jsonText + "\n" : summary.text + "\n"
    }

    /// The defaults, then `--config FILE`, then each `--set key=value` in order.
    static func hyperparameters(_ arguments: ParsedArguments) throws(CommandFailure) -> Hyperparameters {
        var hyperparameters = Hyperparameters()
        if let config = arguments.string("--config") {
            let text: String
            do { text = try readText(config) } catch { throw spec.usageError(error.message) }
            do { try hyperparameters.apply(configText: text, source: config) } catch { throw spec.usageError(error.message) }
        }
        do {
            for override in arguments.strings("--set") { try hyperparameters.apply(override: override) }
        } catch {
            throw spec.usageError(error.message)
        }
        return hyperparameters
    }
}
