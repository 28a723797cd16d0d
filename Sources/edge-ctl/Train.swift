import ArgumentParser
import EdgeIO
import EdgeLearning
import EdgeRuntime
import Foundation

/// `edge-ctl train` (the default command): learn a controller from scratch on a rig.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Learn a controller (the default command): collect real episodes, fit the dynamics and reward models, improve the policy with PPO in imagination.",
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

    @Flag(help: "Use the simulated board (short for --board sim).")
    var sim = false

    @Option(help: "Board to run on (a name from `edge-ctl boards`): its real rig through libgpiod and hardware PWM ('sim' is --sim). Learns with --async unless --lockstep; no evaluation episodes (the curve is the collected episodes' sensor returns).")
    var board: String?

    @OptionGroup var boardsDirectory: BoardsDirectoryOption

    @Option(help: "With --board: seconds the encoders must stay still (motor off) before each episode (0: home wherever it is).")
    var settle: Double = 1

    @Option(name: .customLong("settle-timeout"), help: "With --board: seconds to wait for the rig to come to rest before an episode, then stop (continue with --resume).")
    var settleTimeout: Double = 30

    @Option(help: "Rig to control: pendulum, motor or cartpole.")
    var rig: RigKind = .pendulum

    @OptionGroup var plantOptions: PlantOptions

    @Option(help: "Seed of every random choice: the same seed gives the same run.")
    var seed: UInt64 = 1

    @Option(help: "Outer iterations at most (one real episode each).")
    var iterations: Int = 1_000

    @Option(name: .customLong("max-real-steps"), help: "Real plant steps at most.")
    var maxRealSteps: Int = 2_000

    @Option(name: .customLong("eval-episodes"), help: "Evaluation episodes after each iteration.")
    var evalEpisodes: Int = 10

    @Option(name: .customLong("random-episodes"), help: "Episodes of random actions before the policy acts.")
    var randomEpisodes: Int = 1

    @Option(help: "Data directory for transitions and checkpoints (default: a new run-NNN under $XDG_STATE_HOME/edge-ctl/<rig>, or the latest one with --resume).")
    var data: String?

    @Flag(help: "Continue the run in the data directory from its last checkpoint, keeping every synced transition.")
    var resume = false

    @Flag(help: "Collect an episode, then learn while the plant waits, then the next: exactly repeatable on the simulator (the simulator's default).")
    var lockstep = false

    @Flag(name: .customLong("async"), help: "Learn on a thread of its own while the control loop keeps collecting, and hand each new policy to the loop at a step boundary (how a board trains). On the simulator the rig then runs paced to the wall clock.")
    var asynchronous = false

    @Option(name: .customLong("sim-speed"), help: "With --async on the simulator: how many times faster than real time the rig runs (0: as fast as the host can).")
    var simSpeed: Double = 1

    @Flag(help: "Ask for SCHED_FIFO, locked memory and precise timers for the control loop (each refused part is reported; the run goes on).")
    var realtime = false

    @Option(name: .customLong("control-cpu"), help: "With --realtime: the CPU to pin the control loop to.")
    var controlCPU: Int32?

    @Option(name: .customLong("learner-cpu"), help: "With --async: the CPU to pin the learner thread to.")
    var learnerCPU: Int32?

    @Option(name: .customLong("dataset-window"), help: "Learn from the newest N real transitions only (the log keeps all): fixed memory and refit time on a run of any length.")
    var datasetWindow: Int?

    @Flag(name: .customLong("known-reward"), help: "Imagine with the rig's known reward function instead of learning r_phi.")
    var knownReward = false

    @Option(help: "How each round improves the policy on the learned models: ppo (PPO in imagination), pathwise (backpropagation through r_phi, f_psi and pi_theta over the horizon) or hybrid (a short pathwise horizon bootstrapped with a learned value). See README, 'Why PPO in imagination'.")
    var optimizer: PolicyOptimizer = .ppo

    @Option(help: "A file of hyperparameters, one 'key = value' per line (see --list-hyperparameters).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override one hyperparameter, e.g. --set horizon=50 (repeatable).")
    var overrides: [String] = []

    @Flag(name: .customLong("list-hyperparameters"), help: "Print every hyperparameter with its default and exit.")
    var listHyperparameters = false

    @Flag(help: "Print one JSON object at the end instead of the text summary.")
    var json = false

    @Flag(help: "No progress output.")
    var quiet = false

    @Flag(help: "Also print each durable event (\"synced N transitions\") on its own line.")
    var verbose = false

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard maxRealSteps > 0 else { throw ValidationError("--max-real-steps must be at least 1") }
        guard evalEpisodes >= 0 else { throw ValidationError("--eval-episodes must be 0 or more") }
        guard randomEpisodes >= 0 else { throw ValidationError("--random-episodes must be 0 or more") }
        guard !(lockstep && asynchronous) else { throw ValidationError("--lockstep and --async exclude each other") }
        guard simSpeed >= 0 && simSpeed <= 1_000_000 else {
            throw ValidationError("--sim-speed must be from 0 (as fast as possible) to 1000000")
        }
        if simSpeed != 1 && !asynchronous { throw ValidationError("--sim-speed paces an --async run; add --async") }
        if learnerCPU != nil && !asynchronous && !(onRealBoard && !lockstep) { throw ValidationError("--learner-cpu pins the --async learner; add --async") }
        if controlCPU != nil && !realtime { throw ValidationError("--control-cpu goes with --realtime") }
        for (flag, cpu) in [("--control-cpu", controlCPU), ("--learner-cpu", learnerCPU)] {
            if let cpu, !(0...1023).contains(cpu) { throw ValidationError("\(flag) must be a CPU number from 0 to 1023") }
        }
        if let datasetWindow, datasetWindow < 1 { throw ValidationError("--dataset-window must be at least 1") }
        let inMemory = TrainingOptions.maximumStepsInMemory
        if let datasetWindow, datasetWindow > inMemory { throw ValidationError("--dataset-window must be at most \(inMemory)") }
        if datasetWindow == nil && maxRealSteps > inMemory {
            throw ValidationError("--max-real-steps above \(inMemory) needs --dataset-window (the learner keeps every transition in memory)")
        }
        if optimizer == .modelFree { throw ValidationError("--optimizer model-free is for 'edge-ctl compare'; train takes ppo, pathwise or hybrid") }
        if optimizer != .ppo && knownReward { throw ValidationError("--optimizer \(optimizer.rawValue) differentiates the learned reward model; drop --known-reward") }
        if sim && board != nil { throw ValidationError("--sim and --board exclude each other (--board sim is --sim)") }
        guard settle >= 0 && settle <= 3_600 else { throw ValidationError("--settle must be from 0 to 3600 seconds") }
        guard settleTimeout > 0 && settleTimeout <= 86_400 else { throw ValidationError("--settle-timeout must be from 0 to 86400 seconds") }
        if onRealBoard {
            do {
                _ = try BoardCatalog.board(named: board ?? "", in: boardsDirectory.resolve())
            } catch let failure as BoardsFailure {
                throw ValidationError(failure.message.hasPrefix("error: ") ? String(failure.message.dropFirst(7)) : failure.message)
            }
            if plantOptions.plant != nil { throw ValidationError("--plant trains on the external plant; drop --board") }
            if simSpeed != 1 { throw ValidationError("--sim-speed paces the simulator; a board runs in real time") }
            if optimizer != .ppo { throw ValidationError("--board trains with --optimizer ppo only (pathwise and hybrid run on the simulator)") }
        } else if settle != 1 || settleTimeout != 30 {
            throw ValidationError("--settle and --settle-timeout are for --board")
        }
    }

    /// `--board NAME` other than sim: the board's real rig.
    var onRealBoard: Bool { board != nil && board != "sim" }

    func hyperparameters() throws -> Hyperparameters {
        var h = Hyperparameters()
        do {
            if let config {
                let text = try String(contentsOfFile: config, encoding: .utf8)
                try h.apply(configText: text, source: config)
            }
            for o in overrides { try h.apply(override: o) }
        } catch let error as HyperparameterError {
            throw ValidationError(error.message)
        } catch {
            throw ValidationError("cannot read --config \(config ?? ""): \(error.localizedDescription)")
        }
        return h
    }

    func run() throws {
        let h = try hyperparameters()
        if listHyperparameters {
            print(h.configText(), terminator: "")
            return
        }
        if plantOptions.plant != nil { return try trainOnPlant(plantOptions, hyperparameters: h) }
        // Before any data directory is made: a machine without the board's chip fails as `boards probe` does.
        let realBoard = onRealBoard ? try openRealBoard(board ?? "") : nil
        var options = TrainingOptions()
        options.seed = seed
        options.iterations = iterations
        options.maxRealSteps = maxRealSteps
        options.evaluationEpisodes = evalEpisodes
        options.randomEpisodes = randomEpisodes
        let directory: String
        do { directory = try DataDirectory.forTraining(data: data, resume: resume, rig: rig) } catch {
            throw RuntimeError(error.message)
        }
        options.dataDirectory = directory
        options.resume = resume
        options.learner = asynchronous || (onRealBoard && !lockstep) ? .asynchronous : .lockstep
        options.simulationSpeed = simSpeed
        options.learnerCPU = learnerCPU
        options.datasetWindow = datasetWindow
        options.stopsOnSignals = StopSignal.installHandlers() == 0
        let progress = ProgressLine(enabled: !quiet || verbose, verbose: verbose)
        if let realBoard {
            return try trainOnRealBoard(realBoard, options: options, hyperparameters: h, directory: directory,
                                        progress: progress)
        }
        progress.note("edge-ctl: \(resume ? "resuming" : "training") on the simulated \(rig.rawValue) rig, seed \(seed), up to \(maxRealSteps) real steps, learner \(options.learner.rawValue); data in \(directory); SIMD: \(simdPathSummary)")
        if realtime {
            var request = RealtimeRequest()
            request.cpu = controlCPU
            for message in RealtimeStatus.enable(request).messages { progress.note("realtime: " + message) }
        }
        let summary: TrainingSummary
        do {
            summary = optimizer == .ppo
                ? try trainOnSimulator(rig: rig, knownReward: knownReward, options: options, hyperparameters: h,
                                       observer: progress)
                : try trainOnSimulator(rig: rig, optimizer: optimizer, options: options, hyperparameters: h,
                                       observer: progress)
        } catch {
            progress.finish()
            throw RuntimeError(error.message)
        }
        progress.finish()
        try report(summary, directory: directory, progress: progress)
    }

    /// The board's rig: the chip is checked exactly as `boards probe` checks it (same message, exit 1,
    /// when it is missing), then the one trainer runs on the real rig (`trainOnBoard`).
    func openRealBoard(_ name: String) throws -> (BoardDescription, LibgpiodBackend) {
        let description: BoardDescription
        do {
            description = try BoardCatalog.board(named: name, in: boardsDirectory.resolve())
        } catch let failure as BoardsFailure {
            throw exitWithFailure(failure.message)
        }
        let backend: LibgpiodBackend
        do {
            backend = LibgpiodBackend(library: try LibgpiodLibrary.load())
            _ = try BoardProbe.probe(description, backend: backend)
        } catch {
            let chips = (try? LibgpiodLibrary.load()).map { LibgpiodBackend(library: $0).availableChips() }
            throw exitWithFailure(boardChipFailureMessage(board: description, error: error, chips: chips))
        }
        return (description, backend)
    }

    func trainOnRealBoard(_ board: (BoardDescription, LibgpiodBackend), options: TrainingOptions,
                          hyperparameters h: Hyperparameters, directory: String, progress: ProgressLine) throws {
        let (description, backend) = board
        var rest = BoardTrainingOptions()
        rest.settleNs = Int64((settle * 1e9).rounded())
        rest.restTimeoutNs = Int64((settleTimeout * 1e9).rounded())
        progress.note("edge-ctl: \(resume ? "resuming" : "training") on board \(description.name)'s real \(rig.rawValue) rig, seed \(seed), up to \(maxRealSteps) real steps, learner \(options.learner.rawValue); no evaluation episodes on hardware (the curve is the collected episodes' sensor returns); before each episode the motor is off until the encoders are still for \(settle) s (pendulum hanging); keep a hand on the e-stop; data in \(directory)")
        if realtime {
            var request = RealtimeRequest()
            request.cpu = controlCPU
            for message in RealtimeStatus.enable(request).messages { progress.note("realtime: " + message) }
        }
        let summary: TrainingSummary
        do {
            summary = try trainOnBoard(rig: rig, board: description, backend: backend, pwm: SysfsPWMChannels(), rest: rest,
                                       knownReward: knownReward, options: options, hyperparameters: h, observer: progress)
        } catch {
            progress.finish()
            if case .chip(_, let lineError) = error {
                throw exitWithFailure(boardChipFailureMessage(board: description, error: lineError,
                                                              chips: backend.availableChips()))
            }
            throw RuntimeError(error.message)
        }
        progress.finish()
        try report(summary, directory: directory, progress: progress)
    }

    /// Plots, the summary, and the stop-signal error.
    func report(_ summary: TrainingSummary, directory: String, progress: ProgressLine) throws {
        if summary.recoveredRecords > 0 || summary.droppedTailBytes > 0 {
            progress.note("recovered \(summary.recoveredRecords) transitions from \(directory)/transitions.log" +
                          (summary.droppedTailBytes > 0 ? " (dropped a torn tail of \(summary.droppedTailBytes) bytes)" : ""))
        }
        for (name, plot) in [("learning-curve.svg", summary.learningCurvePlot),
                             ("latency.svg", summary.control.latencyPlot(
                                title: "Control-step latency while training, \(rig.rawValue) (\(summary.control.steps) steps)"))] {
            let path = directory + "/" + name
            do {
                try plot.write(to: path)
                progress.note("wrote \(path)")
            } catch {
                progress.note("warning: \(error.message)")
            }
        }
        if json {
            print(summary.jsonText)
        } else {
            print(summary.text)
        }
        if let signal = summary.stoppedBySignal {
            throw RuntimeError("stopped by \(StopSignal.name(signal)) after \(summary.realSteps) real steps; every collected transition is synced in \(directory): continue with --resume --data \(directory)")
        }
    }
}

extension RigKind: ExpressibleByArgument {}

/// An error that ends a command with a one-line message and exit code 1.
struct RuntimeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
