import ArgumentParser
import EdgeRuntime
import Foundation

/// `edge-ctl run`: deploy the checkpoint's policy through the real-time runtime (no learning) and
/// report the return, the control loop's timing, its allocations and the safety layer's record.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the checkpoint's policy in the real-time control loop (no learning) and report its timing.",
        discussion: """
          Examples:
            edge-ctl run --sim --data DIR --episodes 2
            edge-ctl run --sim --rig motor --json
          Writes latency.svg (histogram of control-step latency) into the data directory.
          """)

    @Flag(help: "Run on the simulated board (required: hardware runs are not wired yet).")
    var sim = false

    @OptionGroup var dataOptions: DataOptions

    @Option(help: "Episodes to run back to back from the evaluation starts.")
    var episodes: Int = 5

    @Option(help: "Seed of the start states (default: the training run's seed).")
    var seed: UInt64?

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard sim else {
            throw ValidationError("a hardware run needs a board and the libgpiod backend wiring, which are not done yet; use --sim")
        }
        guard episodes > 0 else { throw ValidationError("--episodes must be at least 1") }
    }

    func run() throws {
        let s = try dataOptions.summary()
        guard s.hasCheckpoint, let rig = s.rig else { throw RuntimeError("\(s.path) has no checkpoint to run") }
        _ = StopSignal.installHandlers()
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
            print("latency p50 \(formatDuration(report.control.latencyP50Ns)), p99 \(formatDuration(report.control.latencyP99Ns)), "
                  + "p99.9 \(formatDuration(report.control.latencyP999Ns)), max \(formatDuration(report.control.latencyMaxNs)); "
                  + "jitter p50 \(formatDuration(report.control.jitterP50Ns)), p99 \(formatDuration(report.control.jitterP99Ns)); "
                  + "missed deadlines \(report.control.missedDeadlines)")
            if let perStep = report.control.allocationsPerStep {
                print(String(format: "allocations in control steps: %llu (%.3g per step)", report.control.allocations ?? 0, perStep))
            } else {
                print("allocations in control steps: not measured (allocation counter not linked)")
            }
            print(report.control.safety.summary)
            print("wrote \(svgPath)")
        }
        if case .signal(let signal) = report.exit {
            throw RuntimeError("stopped by \(StopSignal.name(signal)) after \(report.steps) steps; the motor is off")
        }
    }
}
