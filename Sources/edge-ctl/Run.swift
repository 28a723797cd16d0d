import ArgumentParser
import EdgeIO
import EdgeRuntime
import Foundation

/// `edge-ctl run`: deploy the checkpoint's policy through the real-time runtime (no learning) and
/// report the return, the control loop's timing, its allocations and the safety layer's record.
/// On the simulated rig (`--sim`) or on a board's real rig (`--board NAME`: libgpiod + sysfs PWM).
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the checkpoint's policy in the real-time control loop (no learning) and report its timing.",
        discussion: """
          Examples:
            edge-ctl run --sim --data DIR --episodes 2
            edge-ctl run --sim --rig motor --json
            edge-ctl run --board rpi4 --rig pendulum --data DIR --seconds 20 --realtime
          On a board: let the pendulum hang still (it is homed at theta = pi) or the motor/cart rest, and
          keep a hand on the e-stop. Check the board first with 'edge-ctl boards probe NAME'.
          Writes latency.svg (histogram of control-step latency) into the data directory.
          """)

    @Flag(help: "Run on the simulated board (short for --board sim).")
    var sim = false

    @Option(help: "Board to run on (a name from `edge-ctl boards`): its real rig through libgpiod and hardware PWM; 'sim' is --sim.")
    var board: String?

    @OptionGroup var boardsDirectory: BoardsDirectoryOption

    @OptionGroup var dataOptions: DataOptions

    @OptionGroup var plantOptions: PlantOptions

    @Option(name: .customLong("episodes"), help: "With --sim: episodes to run back to back from the evaluation starts. (default: 5)")
    var episodeCount: Int?

    /// `--episodes`, 5 when not given.
    var episodes: Int { episodeCount ?? 5 }

    @Option(help: "With --board: control steps to run (default: one episode of the rig's task).")
    var steps: Int?

    @Option(help: "With --board: seconds to run, rounded up to whole control periods.")
    var seconds: Double?

    @Option(help: "Seed of the start states (default: the training run's seed).")
    var seed: UInt64?

    @Flag(help: "Ask for SCHED_FIFO, locked memory and precise timers for the control loop (each refused part is reported; the run goes on).")
    var realtime = false

    @Flag(help: "Print one JSON object.")
    var json = false

    /// `--sim` or `--board sim`.
    var onSimulator: Bool { sim || board == "sim" }

    func validate() throws {
        if sim && board != nil { throw ValidationError("--sim and --board exclude each other (--board sim is --sim)") }
        if plantOptions.plant != nil {
            if sim || board != nil { throw ValidationError("--plant runs on the external plant; drop --sim / --board") }
            if steps != nil || seconds != nil { throw ValidationError("with --plant use --episodes") }
            return
        }
        guard sim || board != nil else {
            throw ValidationError("say where to run: --sim (the simulated rig), --board NAME (a board's real rig, see edge-ctl boards) or --plant ADDRESS (an external plant)")
        }
        if let episodeCount, episodeCount < 1 { throw ValidationError("--episodes must be at least 1") }
        if onSimulator {
            if steps != nil || seconds != nil {
                throw ValidationError("--steps and --seconds are for --board; on the simulator use --episodes")
            }
        } else {
            if episodeCount != nil { throw ValidationError("--episodes is for --sim; on a board use --steps or --seconds") }
            if steps != nil && seconds != nil { throw ValidationError("--steps and --seconds exclude each other") }
            if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
            if let seconds, !(seconds > 0 && seconds <= 86_400 * 365) {
                throw ValidationError("--seconds must be a positive number of seconds")
            }
        }
    }

    func run() throws {
        if plantOptions.plant != nil { return try runOnPlant(plantOptions) }
        if onSimulator { return try runOnSimulator() }
        try runOnBoard(board ?? "")
    }

    func enableRealtime() {
        guard realtime else { return }
        for message in RealtimeStatus.enable(RealtimeRequest()).messages {
            FileHandle.standardError.write(Data(("realtime: " + message + "\n").utf8))
        }
    }

    func runOnSimulator() throws {
        let s = try dataOptions.summary()
        guard s.hasCheckpoint, let rig = s.rig else { throw RuntimeError("\(s.path) has no checkpoint to run") }
        _ = StopSignal.installHandlers()
        enableRealtime()
        let report: PolicyRunReport
        do {
            report = try runCheckpointPolicy(directory: s.path, rig: rig, episodes: episodes,
                                             seed: seed ?? s.checkpointSeed, stopsOnSignals: true)
        } catch {
            throw RuntimeError(error.message)
        }
        let svgPath = (s.path as NSString).appendingPathComponent("latency.svg")
        do {
            try report.control.latencyPlot(title: "Control-step latency, \(report.rig.rawValue) (\(report.steps) steps)").write(to: svgPath)
        } catch {
            throw RuntimeError(error.message)
        }
        if json {
            let object: [String: Any] = [
                "rig": rig.rawValue, "steps": report.steps, "episodes": report.episodes,
                "return_mean": Double(report.returnMean),
                "latency_p50_ns": report.control.latencyP50Ns, "latency_p99_ns": report.control.latencyP99Ns,
                "latency_max_ns": report.control.latencyMaxNs, "missed_deadlines": report.control.missedDeadlines,
                "allocations_per_step": report.control.allocationsPerStep.map { $0 as Any } ?? NSNull(),
                "safety": report.control.safety.summary, "latency_svg": svgPath,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@: %d steps, %d episodes, return %.1f (episodes: %@)", rig.rawValue, report.steps,
                         report.episodes, report.returnMean,
                         report.episodeReturns.map { String(format: "%.1f", $0) }.joined(separator: ", ")))
            printTiming(report.control)
            print("wrote \(svgPath)")
        }
        if case .signal(let signal) = report.exit {
            throw RuntimeError("stopped by \(StopSignal.name(signal)) after \(report.steps) steps; the motor is off")
        }
    }

    func printTiming(_ control: ControlLoopReport) {
        print("latency p50 \(formatDuration(control.latencyP50Ns)), p99 \(formatDuration(control.latencyP99Ns)), "
              + "p99.9 \(formatDuration(control.latencyP999Ns)), max \(formatDuration(control.latencyMaxNs)); "
              + "jitter p50 \(formatDuration(control.jitterP50Ns)), p99 \(formatDuration(control.jitterP99Ns)); "
              + "missed deadlines \(control.missedDeadlines)")
        if let perStep = control.allocationsPerStep {
            print(String(format: "allocations in control steps: %llu (%.3g per step)", control.allocations ?? 0, perStep))
        } else {
            print("allocations in control steps: not measured (allocation counter not linked)")
        }
        print(control.safety.summary)
    }

    /// The board's rig: the chip is checked exactly as `boards probe` checks it (same message when it
    /// is missing), then the checkpoint's policy runs on the real rig.
    func runOnBoard(_ name: String) throws {
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
        let s = try dataOptions.summary()
        guard s.hasCheckpoint, let rig = s.rig else { throw RuntimeError("\(s.path) has no checkpoint to run") }
        var options = BoardRunOptions()
        options.steps = steps
        options.seconds = seconds
        options.stopsOnSignals = StopSignal.installHandlers() == 0
        FileHandle.standardError.write(Data("edge-ctl: running the \(rig.rawValue) policy of \(s.path) on board \(description.name); homing: the rig must be at rest (pendulum hanging still)\n".utf8))
        enableRealtime()
        let report: BoardRunReport
        do {
            report = try runCheckpointOnBoard(directory: s.path, rig: rig, seed: seed ?? s.checkpointSeed,
                                              board: description, backend: backend, pwm: SysfsPWMChannels(),
                                              options: options)
        } catch {
            if case .chip(_, let lineError) = error {
                throw exitWithFailure(boardChipFailureMessage(board: description, error: lineError,
                                                              chips: backend.availableChips()))
            }
            throw RuntimeError(error.message)
        }
        let svgPath = (s.path as NSString).appendingPathComponent("latency.svg")
        var wroteSVG = true
        do {
            try report.control.latencyPlot(title: "Control-step latency, \(rig.rawValue) on \(report.board) (\(report.steps) steps)").write(to: svgPath)
        } catch {
            wroteSVG = false
            FileHandle.standardError.write(Data("warning: \(error.message)\n".utf8))
        }
        if json {
            let object: [String: Any] = [
                "board": report.board, "rig": rig.rawValue, "steps": report.steps, "period_ns": report.periodNs,
                "chip": report.chipName, "pwm": report.pwmChannel, "reward_sum": report.rewardSum,
                "latency_p50_ns": report.control.latencyP50Ns, "latency_p99_ns": report.control.latencyP99Ns,
                "latency_max_ns": report.control.latencyMaxNs, "missed_deadlines": report.control.missedDeadlines,
                "allocations_per_step": report.control.allocationsPerStep.map { $0 as Any } ?? NSNull(),
                "safety": report.control.safety.summary, "latency_svg": wroteSVG ? svgPath : NSNull(),
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "%@ on %@ (%@, %@): %d steps of %@, reward sum %.2f from the sensors", rig.rawValue,
                         report.board, report.chipName, report.pwmChannel, report.steps,
                         formatDuration(report.periodNs), report.rewardSum))
            printTiming(report.control)
            if wroteSVG { print("wrote \(svgPath)") }
        }
        if case .signal(let signal) = report.exit {
            throw RuntimeError("stopped by \(StopSignal.name(signal)) after \(report.steps) steps; the motor is off")
        }
    }
}
