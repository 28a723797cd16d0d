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
            .option("--board", "board", "Board to run on (a name from `edge-ctl boards`): its real rig through libgpiod and hardware PWM ('sim' is --sim). Learns with --async unless --lockstep; no evaluation episodes (the curve is the collected episodes' sensor returns)."),
            BoardFiles.directoryOption,
            .option("--settle", "settle", "With --board: seconds the encoders must stay still (motor off) before each episode (0: home wherever it is). (default: 1)"),
            .option("--settle-timeout", "settle-timeout", "With --board: seconds to wait for the rig to come to rest before an episode, then stop (continue with --resume). (default: 30)"),
            .option("--rig", "rig", "Rig to control: pendulum, motor or cartpole. (default: pendulum)"),
            .option("--seed", "seed", "Seed of every random choice: the same seed gives the same run. (default: 1)"),
            .option("--iterations", "iterations", "Outer iterations at most (one real episode each). (default: 1000)"),
            .option("--max-real-steps", "max-real-steps", "Real plant steps at most. (default: 2000)"),
            .option("--eval-episodes", "eval-episodes", "Evaluation episodes after each iteration. (default: 10)"),
            .option("--random-episodes", "random-episodes", "Episodes of random actions before the policy acts. (default: 1)"),
            .option("--data", "data", "Data directory for transitions and checkpoints (default: a new run-NNN under $XDG_STATE_HOME/edge-ctl/<rig>, or the latest one with --resume)."),
            .flag("--resume", "Continue the run in the data directory from its last checkpoint, keeping every synced transition."),
            .flag("--lockstep", "Collect an episode, then learn while the plant waits, then the next: exactly repeatable on the simulator (the simulator's default)."),
            .flag("--async", "Learn on a thread of its own while the control loop keeps collecting, and hand each new policy to the loop at a step boundary (how a board trains). On the simulator the rig then runs paced to the wall clock."),
            .option("--sim-speed", "sim-speed", "With --async on the simulator: how many times faster than real time the rig runs (0: as fast as the host can). (default: 1)"),
            .flag("--realtime", "Ask for SCHED_FIFO, locked memory and precise timers for the control loop (each refused part is reported; the run goes on)."),
            .option("--control-cpu", "control-cpu", "With --realtime: the CPU to pin the control loop to."),
            .option("--learner-cpu", "learner-cpu", "With --async: the CPU to pin the learner thread to."),
            .option("--dataset-window", "dataset-window", "Learn from the newest N real transitions only (the log keeps all): fixed memory and refit time on a run of any length."),
            .flag("--known-reward", "Imagine with the rig's known reward function instead of learning r_phi."),
            .option("--optimizer", "optimizer", "How each round improves the policy on the learned models: ppo (PPO in imagination), pathwise (backpropagation through r_phi, f_psi and pi_theta over the horizon) or hybrid (a short pathwise horizon bootstrapped with a learned value). (default: ppo)"),
            .option("--config", "config", "A file of hyperparameters, one 'key = value' per line (see --list-hyperparameters)."),
            .option("--set", "set", "Override one hyperparameter, e.g. --set horizon=50 (repeatable)."),
            .flag("--list-hyperparameters", "Print every hyperparameter with its default and exit."),
            .flag("--json", "Print one JSON object at the end instead of the text summary."),
            .flag("--quiet", "No progress output."),
            .flag("--verbose", "Also print each durable event (\"synced N transitions\") on its own line."),
        ],
        discussion: """
        Examples:
          edge-ctl --sim                                   pendulum swing-up on the simulated board
          edge-ctl train --sim --rig motor --seed 3 --json
          edge-ctl train --sim --set horizon=50 --set models.ensembleSize=7
          edge-ctl train --board rpi4 --rig pendulum --realtime   on the real rig (async learner, no evaluation episodes)
          edge-ctl train --board rpi4 --resume --data DIR          continue a simulator run on the real rig
        On a board: before each episode the motor is off and the encoders must be still for --settle
        seconds (the start state is wherever the rig rests); keep a hand on the e-stop.
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
        let optimizer = try arguments.choice("--optimizer", default: PolicyOptimizer.ppo,
                                             from: [("ppo", .ppo), ("pathwise", .pathwise), ("hybrid", .hybrid)])
        let knownReward = arguments.flag("--known-reward")
        if optimizer != .ppo && knownReward {
            throw spec.usageError("--optimizer \(optimizer.rawValue) differentiates the learned reward model; drop --known-reward")
        }
        let asynchronous = arguments.flag("--async"), realtime = arguments.flag("--realtime")
        let lockstep = arguments.flag("--lockstep")
        if asynchronous && lockstep { throw spec.usageError("--lockstep and --async exclude each other") }
        let boardName = arguments.string("--board")
        if arguments.flag("--sim") && boardName != nil { throw spec.usageError("--sim and --board exclude each other (--board sim is --sim)") }
        let onRealBoard = boardName != nil && boardName != "sim"
        options.learner = asynchronous || (onRealBoard && !lockstep) ? .asynchronous : .lockstep
        options.simulationSpeed = try arguments.number("--sim-speed", default: 1, in: 0...1e6)
        if options.simulationSpeed != 1 && !asynchronous { throw spec.usageError("--sim-speed paces an --async run; add --async") }
        if arguments.string("--learner-cpu") != nil {
            let cpu = Int32(try arguments.integer("--learner-cpu", default: 0, in: 0...1023))
            guard options.learner == .asynchronous else { throw spec.usageError("--learner-cpu pins the --async learner; add --async") }
            options.learnerCPU = cpu
        }
        let inMemory = TrainingOptions.maximumStepsInMemory
        if arguments.string("--dataset-window") != nil {
            options.datasetWindow = try arguments.integer("--dataset-window", default: 1, in: 1...inMemory)
        } else if options.maxRealSteps > inMemory {
            throw spec.usageError("--max-real-steps above \(inMemory) needs --dataset-window (the learner keeps every transition in memory)")
        }
        let controlCPU = arguments.string("--control-cpu") == nil ? nil
            : Int32(try arguments.integer("--control-cpu", default: 0, in: 0...1023))
        if controlCPU != nil && !realtime { throw spec.usageError("--control-cpu goes with --realtime") }
        var rest = BoardTrainingOptions()
        let settle = try arguments.number("--settle", default: 1, in: 0...3_600)
        let settleTimeout = try arguments.number("--settle-timeout", default: 30, in: 0.001...86_400)
        rest.settleNs = Int64((settle * 1e9).rounded())
        rest.restTimeoutNs = Int64((settleTimeout * 1e9).rounded())
        if onRealBoard {
            if options.simulationSpeed != 1 { throw spec.usageError("--sim-speed paces the simulator; a board runs in real time") }
            if optimizer != .ppo { throw spec.usageError("--board trains with --optimizer ppo only (pathwise and hybrid run on the simulator)") }
        } else if arguments.string("--settle") != nil || arguments.string("--settle-timeout") != nil {
            throw spec.usageError("--settle and --settle-timeout are for --board")
        }
        let hyperparameters = try Self.hyperparameters(arguments)
        if arguments.flag("--list-hyperparameters") { return hyperparameters.configText() }

        // Before any data directory is made: a machine without the board's chip fails as `boards probe` does.
        var realBoard: (BoardDescription, LibgpiodBackend)? = nil
        if onRealBoard, let boardName {
            let board: BoardDescription
            do { board = try BoardFiles.load(try BoardFiles.path(ofBoard: boardName, directory: arguments.string("--boards-dir"))) } catch {
                throw CommandFailure(error.message, status: ExitStatus.usage)  // a bad --board value, as on the host
            }
            do {
                let backend = LibgpiodBackend(library: try LibgpiodLibrary.load())
                _ = try BoardProbe.probe(board, backend: backend)
                realBoard = (board, backend)
            } catch {
                let chips = (try? LibgpiodLibrary.load()).map { LibgpiodBackend(library: $0).availableChips() }
                throw CommandFailure(boardChipFailureMessage(board: board, error: error, chips: chips))
            }
        }

        let resume = arguments.flag("--resume")
        let directory: String
        do { directory = try DataDirectory.forTraining(data: arguments.string("--data"), resume: resume, rig: rig) } catch {
            throw CommandFailure("error: " + error.message)
        }
        options.dataDirectory = directory
        options.resume = resume

        options.stopsOnSignals = StopSignal.installHandlers() == 0
        let verbose = arguments.flag("--verbose")
        let progress = ProgressLines(enabled: !arguments.flag("--quiet") || verbose, verbose: verbose)
        if case let (board, _)? = realBoard {
            progress.note("edge-ctl: \(resume ? "resuming" : "training") on board \(board.name)'s real \(rig.rawValue) rig, seed \(options.seed), up to \(options.maxRealSteps) real steps, learner \(options.learner.rawValue); no evaluation episodes on hardware (the curve is the collected episodes' sensor returns); before each episode the motor is off until the encoders are still for \(settle) s (pendulum hanging); keep a hand on the e-stop; data in \(directory)")
        } else {
            progress.note("edge-ctl: \(resume ? "resuming" : "training") on the simulated \(rig.rawValue) rig, seed \(options.seed), up to \(options.maxRealSteps) real steps, learner \(options.learner.rawValue); data in \(directory); SIMD: \(simdPathSummary)")
        }
        if realtime {
            var request = RealtimeRequest()
            request.cpu = controlCPU
            for message in RealtimeStatus.enable(request).messages { progress.note("realtime: " + message) }
        }
        let summary: TrainingSummary
        if case let (board, backend)? = realBoard {
            do throws(BoardRunError) {
                summary = try trainOnBoard(rig: rig, board: board, backend: backend, pwm: SysfsPWMChannels(), rest: rest,
                                           knownReward: knownReward, options: options,
                                           hyperparameters: hyperparameters, observer: progress)
            } catch {
                if case .chip(_, let lineError) = error {
                    throw CommandFailure(boardChipFailureMessage(board: board, error: lineError, chips: backend.availableChips()))
                }
                throw CommandFailure("error: " + error.message)
            }
        } else {
            do {
                summary = optimizer == .ppo
                    ? try trainOnSimulator(rig: rig, knownReward: knownReward, options: options,
                                           hyperparameters: hyperparameters, observer: progress)
                    : try trainOnSimulator(rig: rig, optimizer: optimizer, options: options,
                                           hyperparameters: hyperparameters, observer: progress)
            } catch {
                throw CommandFailure("error: " + error.message)
            }
        }
        if summary.recoveredRecords > 0 || summary.droppedTailBytes > 0 {
            progress.note("recovered \(summary.recoveredRecords) transitions from \(directory)/transitions.log"
                          + (summary.droppedTailBytes > 0 ? " (dropped a torn tail of \(summary.droppedTailBytes) bytes)" : ""))
        }
        for (name, plot) in [("learning-curve.svg", summary.learningCurvePlot),
                             ("latency.svg", summary.control.latencyPlot(
                                title: "Control-step latency while training, \(rig.rawValue) (\(summary.control.steps) steps)"))] {
            do {
                try plot.write(to: directory + "/" + name)
                progress.note("wrote \(directory)/\(name)")
            } catch {
                progress.note("warning: " + error.message)
            }
        }
        let output = arguments.flag("--json") ? summary.jsonText + "\n" : summary.text + "\n"
        if let signal = summary.stoppedBySignal {
            print(output, terminator: "")
            throw CommandFailure("error: stopped by \(StopSignal.name(signal)) after \(summary.realSteps) real steps; every collected transition is synced in \(directory): continue with --resume --data \(directory)")
        }
        return output
    }

    /// The defaults, then `--config FILE`, then each `--set key=value` in order.
    static func hyperparameters(_ arguments: ParsedArguments) throws(CommandFailure) -> Hyperparameters {
        var hyperparameters = Hyperparameters()
        if let config = arguments.string("--config") {
            let text: String
            do { text = try readText(config) } catch { throw spec.usageError("--config: " + error.message) }
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
