import EdgeIO
import EdgeRuntime

/// `edge-ctl run`: deploys a checkpoint's policy through the real-time control loop, without learning,
/// on the simulated rig (`--sim`) or on a board's real rig (`--board NAME`: libgpiod + sysfs PWM). The
/// host CLI's flags and behaviour (Sources/edge-ctl/Run.swift).
enum RunCommand {
    static let spec = CommandSpec(
        path: "edge-ctl run",
        abstract: "Run the checkpoint's policy in the real-time control loop (no learning) and report its timing.",
        options: [.flag("--sim", "Run on the simulated board (short for --board sim)."),
                  .option("--board", "board", "Board to run on (a name from `edge-ctl boards`): its real rig through libgpiod and hardware PWM; 'sim' is --sim."),
                  BoardFiles.directoryOption]
            + DataOptions.options
            + [.option("--episodes", "episodes", "With --sim: episodes to run back to back from the evaluation starts. (default: 5)"),
               .option("--steps", "steps", "With --board: control steps to run (default: one episode of the rig's task)."),
               .option("--seconds", "seconds", "With --board: seconds to run, rounded up to whole control periods."),
               .option("--seed", "seed", "Seed of the start states (default: the training run's seed)."),
               .flag("--realtime", "Ask for SCHED_FIFO, locked memory and precise timers for the control loop (each refused part is reported; the run goes on)."),
               .flag("--json", "Print one JSON object.")],
        discussion: """
        Examples:
          edge-ctl run --sim --data DIR --episodes 2
          edge-ctl run --board rpi4 --rig pendulum --data DIR --seconds 20 --realtime
        On a board: let the pendulum hang still (it is homed at theta = pi) or the motor/cart rest, and
        keep a hand on the e-stop. Check the board first with 'edge-ctl boards probe NAME'.
        """)

    static func run(_ words: ArraySlice<String>) throws(CommandFailure) -> String {
        let arguments = try ParsedArguments(words, spec: spec)
        if arguments.wantsHelp { return spec.helpText }
        let board = arguments.string("--board")
        let sim = arguments.flag("--sim")
        if sim && board != nil { throw spec.usageError("--sim and --board exclude each other (--board sim is --sim)") }
        guard sim || board != nil else {
            throw spec.usageError("say where to run: --sim (the simulated rig) or --board NAME (a board's real rig, see edge-ctl boards)")
        }
        let onSimulator = sim || board == "sim"
        let hasSteps = arguments.string("--steps") != nil, hasSeconds = arguments.string("--seconds") != nil
        if onSimulator && (hasSteps || hasSeconds) {
            throw spec.usageError("--steps and --seconds are for --board; on the simulator use --episodes")
        }
        if !onSimulator && arguments.string("--episodes") != nil {
            throw spec.usageError("--episodes is for --sim; on a board use --steps or --seconds")
        }
        if hasSteps && hasSeconds { throw spec.usageError("--steps and --seconds exclude each other") }
        let episodes = try arguments.integer("--episodes", default: 5, in: 1...Int.max)
        let steps = hasSteps ? try arguments.integer("--steps", default: 1, in: 1...Int.max) : nil
        let seconds = hasSeconds ? try arguments.number("--seconds", default: 1, in: 1e-6...(86_400 * 365)) : nil
        // Every value is checked before the data directory or the board is looked at, as on the host.
        let seed = try arguments.unsigned("--seed")
        _ = try DataOptions.rig(arguments)
        if onSimulator { return try runOnSimulator(arguments, episodes: episodes, seed: seed) }
        return try runOnBoard(arguments, name: board ?? "", steps: steps, seconds: seconds, seed: seed)
    }

    static func enableRealtime(_ arguments: ParsedArguments) {
        guard arguments.flag("--realtime") else { return }
        for message in RealtimeStatus.enable(RealtimeRequest()).messages { printError("realtime: " + message) }
    }

    static func runOnSimulator(_ arguments: ParsedArguments, episodes: Int, seed: UInt64?) throws(CommandFailure) -> String {
        let s = try DataOptions.summary(arguments)
        guard s.hasCheckpoint, let rig = s.rig else { throw CommandFailure("error: \(s.path) has no checkpoint to run") }
        let seed = seed ?? s.checkpointSeed
        StopSignal.installHandlers()
        enableRealtime(arguments)
        let r: PolicyRunReport
        do {
            r = try runCheckpointPolicy(directory: s.path, rig: rig, episodes: episodes, seed: seed, stopsOnSignals: true)
        } catch {
            throw CommandFailure("error: " + error.message)
        }
        if arguments.flag("--json") {
            var object = JSONObject()
            object.integer("allocations_per_step", Int(r.control.allocations.map { $0 / UInt64(max(r.steps, 1)) } ?? 0))
            object.integer("episodes", r.episodes)
            object.integer("latency_max_ns", Int(r.control.latencyMaxNs))
            object.integer("latency_p50_ns", Int(r.control.latencyP50Ns))
            object.integer("latency_p99_ns", Int(r.control.latencyP99Ns))
            object.integer("missed_deadlines", r.control.missedDeadlines)
            object.number("return_mean", Double(r.returnMean))
            object.string("rig", rig.rawValue)
            object.string("safety", r.control.safety.summary)
            object.integer("steps", r.steps)
            return object.text + "\n"
        }
        var text = "\(rig.rawValue): \(r.steps) steps, \(r.episodes) episodes, return " + fixed(Double(r.returnMean), decimals: 1) + " per episode\n"
        text += "latency p50 \(r.control.latencyP50Ns) ns, p99 \(r.control.latencyP99Ns) ns, max \(r.control.latencyMaxNs) ns; missed deadlines \(r.control.missedDeadlines)\n"
        text += r.control.safety.summary + "\n"
        return text
    }

    /// The board's rig: the chip is checked exactly as `boards probe` checks it (same message when it
    /// is missing), then the checkpoint's policy runs on the real rig.
    static func runOnBoard(_ arguments: ParsedArguments, name: String, steps: Int?,
                           seconds: Double?, seed: UInt64?) throws(CommandFailure) -> String {
        let file = try BoardFiles.path(ofBoard: name, directory: arguments.string("--boards-dir"))
        let board = try BoardFiles.load(file)
        let backend: LibgpiodBackend
        do {
            backend = LibgpiodBackend(library: try LibgpiodLibrary.load())
            _ = try BoardProbe.probe(board, backend: backend)
        } catch {
            let chips = (try? LibgpiodLibrary.load()).map { LibgpiodBackend(library: $0).availableChips() }
            throw CommandFailure(boardChipFailureMessage(board: board, error: error, chips: chips))
        }
        let s = try DataOptions.summary(arguments)
        guard s.hasCheckpoint, let rig = s.rig else { throw CommandFailure("error: \(s.path) has no checkpoint to run") }
        let seed = seed ?? s.checkpointSeed
        var options = BoardRunOptions()
        options.steps = steps
        options.seconds = seconds
        options.stopsOnSignals = StopSignal.installHandlers() == 0
        printError("edge-ctl: running the \(rig.rawValue) policy of \(s.path) on board \(board.name); homing: the rig must be at rest (pendulum hanging still)")
        enableRealtime(arguments)
        let r: BoardRunReport
        do {
            r = try runCheckpointOnBoard(directory: s.path, rig: rig, seed: seed, board: board, backend: backend,
                                         pwm: SysfsPWMChannels(), options: options)
        } catch {
            if case .chip(_, let lineError) = error {
                throw CommandFailure(boardChipFailureMessage(board: board, error: lineError, chips: backend.availableChips()))
            }
            throw CommandFailure("error: " + error.message)
        }
        let svgPath = s.path + "/latency.svg"
        var wroteSVG = true
        do {
            try r.control.latencyPlot(title: "Control-step latency, \(rig.rawValue) on \(r.board) (\(r.steps) steps)").write(to: svgPath)
        } catch {
            wroteSVG = false
            printError("warning: " + error.message)
        }
        var text: String
        if arguments.flag("--json") {
            var object = JSONObject()
            object.integer("allocations_per_step", Int(r.control.allocations.map { $0 / UInt64(max(r.steps, 1)) } ?? 0))
            object.string("board", r.board)
            object.string("chip", r.chipName)
            object.integer("latency_max_ns", Int(r.control.latencyMaxNs))
            object.integer("latency_p50_ns", Int(r.control.latencyP50Ns))
            object.integer("latency_p99_ns", Int(r.control.latencyP99Ns))
            if wroteSVG { object.string("latency_svg", svgPath) }
            object.integer("missed_deadlines", r.control.missedDeadlines)
            object.integer("period_ns", Int(r.periodNs))
            object.string("pwm", r.pwmChannel)
            object.number("reward_sum", r.rewardSum)
            object.string("rig", rig.rawValue)
            object.string("safety", r.control.safety.summary)
            object.integer("steps", r.steps)
            text = object.text + "\n"
        } else {
            text = "\(rig.rawValue) on \(r.board) (\(r.chipName), \(r.pwmChannel)): \(r.steps) steps of \(r.periodNs / 1_000_000) ms, reward sum "
                + fixed(r.rewardSum, decimals: 2) + " from the sensors\n"
            text += "latency p50 \(r.control.latencyP50Ns) ns, p99 \(r.control.latencyP99Ns) ns, max \(r.control.latencyMaxNs) ns; missed deadlines \(r.control.missedDeadlines)\n"
            text += r.control.safety.summary + "\n"
            if wroteSVG { text += "wrote \(svgPath)\n" }
        }
        if case .signal(let signal) = r.exit {
            print(text, terminator: "")
            throw CommandFailure("error: stopped by \(StopSignal.name(signal)) after \(r.steps) steps; the motor is off")
        }
        return text
    }
}
