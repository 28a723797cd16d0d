import EdgeCore
import EdgeIO
import EdgeLearning
import EdgeRuntime
import FirmwareSim
import Foundation
import Testing

// The rig fixtures (`PendulumBench`: FirmwareSim pendulum behind the wall-clock chip with the rpi4
// label, fake /sys/class/pwm) are BoardRunTests.swift's.

/// One logged transition (s, a, r, s', terminal, episode) read back from transitions.log.
struct LoggedTransition {
    var obs: [Float]
    var action: Float
    var reward: Float
    var next: [Float]
    var terminal: Bool
    var episode: Int
}

/// Every record of a pendulum run's transition log.
func pendulumLog(_ directory: String) throws -> [LoggedTransition] {
    var records: [LoggedTransition] = []
    let schema = TransitionRecord.schema(rig: .pendulum, observations: 3, actions: 1)
    _ = try RecordLog(path: DataDirectory(path: directory).transitionsPath, schema: schema) { payload in
        func f(_ i: Int) -> Float { Float(bitPattern: payload.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        let tail = 4 * (2 * 3 + 1 + 1)
        records.append(LoggedTransition(obs: [f(0), f(1), f(2)], action: f(3), reward: f(4), next: [f(5), f(6), f(7)],
                                        terminal: payload[tail] != 0,
                                        episode: Int(payload.loadUnaligned(fromByteOffset: tail + 1, as: UInt32.self))))
    }
    return records
}

/// 20-step episodes, a 100 ms rest window, small learning rounds.
func boardTrainingOptions(episodeSteps: Int = 20) -> BoardTrainingOptions {
    var options = BoardTrainingOptions()
    options.episodeSteps = episodeSteps
    options.settleNs = 100_000_000
    options.restTimeoutNs = 20_000_000_000
    return options
}

func trainOnBench(_ bench: PendulumBench, directory: String, learner: LearnerMode, maxRealSteps: Int = 60,
                  resume: Bool = false, rest: BoardTrainingOptions = boardTrainingOptions(),
                  observer: CurveRecorder = CurveRecorder()) throws(BoardRunError) -> TrainingSummary {
    var options = TrainingOptions()
    options.seed = 3
    options.maxRealSteps = maxRealSteps
    options.evaluationEpisodes = 10  // forced to 0 on hardware
    options.randomEpisodes = 1
    options.dataDirectory = directory
    options.resume = resume
    options.learner = learner
    var h = Hyperparameters()
    h.ppoIterationsPerEpisode = 1
    return try trainOnBoard(rig: .pendulum, board: bench.board, backend: WallClockBackend(chip: bench.chip),
                            pwm: bench.pwm, rest: rest, knownReward: false, options: options, hyperparameters: h,
                            observer: observer)
}

/// What every board training run must show in its log, its PWM writes and its outputs.
func expectBoardRun(_ bench: PendulumBench, _ log: [LoggedTransition], episodes: Range<Int>, steps: Int) {
    #expect(log.count == episodes.count * steps, "one transition per step (the last s' is sensed after the episode)")
    for episode in episodes {
        let rows = log.filter { $0.episode == episode }
        #expect(rows.count == steps, "episode \(episode)")
        // Each episode starts homed at rest, hanging: θ = π, i.e. cos θ = -1, sin θ = 0, θ̇ = 0.
        if let first = rows.first {
            #expect(abs(first.obs[0] + 1) < 1e-3 && abs(first.obs[1]) < 0.05 && abs(first.obs[2]) < 0.05, "\(first.obs)")
        }
        // s' of one transition is s of the next.
        for k in rows.indices.dropLast() { #expect(rows[k].next == rows[k + 1].obs) }
    }
    for row in log {
        #expect(!row.terminal)
        #expect(abs(row.action) <= 1)
        // The reward is the task's from the sensors: r(s, a) of the logged s and applied a.
        let reward = row.obs.withUnsafeBufferPointer { o in
            withUnsafePointer(to: row.action) { PendulumPlant.reward(observation: o.baseAddress!, action: $0) }
        }
        #expect(row.reward == reward)
    }
    // The motor's PWM input got |a| × 50 µs for the actions that went out (direction on its own line):
    // the non-zero duty writes on the sysfs channel are exactly the logged actions' duties, in order.
    func collapse(_ values: [Int64]) -> [Int64] {
        var out: [Int64] = []
        for v in values where v != 0 && out.last != v { out.append(v) }
        return out
    }
    let duties = collapse(log.map { Int64((Double(abs($0.action)) * 50_000).rounded()) })
    #expect(duties.count > steps, "the actions moved the motor")
    #expect(collapse(bench.sysfs.dutyWrites) == duties)
    #expect(bench.sysfs.text("period") == "50000\n")
    bench.expectSafeState("after training")
}

@Suite("Learning on a board's rig (rpi4 wiring, FirmwareSim pendulum on the wall clock)", .serialized)
struct BoardTrainingTests {
    @Test("lockstep: 3 episodes of 20 steps, homed at rest before each, transitions logged with sensor rewards, policies taken, outputs safe")
    func lockstep() throws {
        try withTemporaryDirectory { dir in
            let bench = try PendulumBench()
            defer { bench.sysfs.remove() }
            let recorder = CurveRecorder()
            let summary = try trainOnBench(bench, directory: dir, learner: .lockstep, observer: recorder)
            #expect(summary.realSteps == 60 && summary.iterations == 3 && summary.curve.count == 3)
            #expect(summary.evaluationEpisodes == 0, "no evaluation episodes on hardware")
            #expect(summary.curve.allSatisfy { $0.evaluationMean == 0 && $0.evaluationStd == 0 })
            #expect(summary.curve.map(\.realSteps) == [20, 40, 60])
            #expect(summary.control.steps == 60 && summary.control.safety.steps == 60)
            #expect(summary.control.safety.firstFault == nil && summary.droppedTransitions == 0)
            // Published: the first policy before episode 1, one after each round; the last comes after the last episode.
            #expect(summary.policiesPublished == 3 && summary.policiesTaken == 3)
            if AllocationCounter.isAvailable { #expect(summary.control.allocations == 0) }

            let log = try pendulumLog(dir)
            expectBoardRun(bench, log, episodes: 0..<3, steps: 20)
            // The curve's episode return is the episode's sensor return: the sum of its logged rewards.
            for (i, stats) in summary.curve.enumerated() {
                let sum = log.filter { $0.episode == i }.reduce(0.0) { $0 + Double($1.reward) }
                #expect(abs(Double(stats.episodeReturn) - sum) < 1e-3 * max(1, abs(sum)), "episode \(i)")
                #expect(sum < -20 * 5, "near hanging each step costs about π²")
            }
            #expect(recorder.iterations.count == 3)
            // Without evaluation episodes the learning-curve plot shows the collected episodes' sensor returns.
            let plot = summary.learningCurvePlot
            #expect(plot.series.first?.name == "collected episode (sensor reward, exploring)")
            #expect(plot.series.first?.y == summary.curve.map { Double($0.episodeReturn) })
            #expect(plot.series.first?.x == [20, 40, 60])

            // The data directory is a simulator run's layout: the simulator resumes it with every transition in its buffer.
            var options = TrainingOptions()
            options.seed = 3
            options.maxRealSteps = 80
            options.evaluationEpisodes = 1
            options.dataDirectory = dir
            options.resume = true
            var h = Hyperparameters()
            h.ppoIterationsPerEpisode = 1
            let resumed = try trainOnSimulator(rig: .pendulum, knownReward: false, options: options, hyperparameters: h,
                                               observer: CurveRecorder())
            #expect(resumed.recoveredRecords == 60 && resumed.realSteps == 80 && resumed.iterations == 4)
            #expect(try pendulumLog(dir).count == 80)
        }
    }

    @Test("--async: collection on this thread, learning on the learner thread; the loop takes the learner's policies")
    func asynchronous() throws {
        try withTemporaryDirectory { dir in
            let bench = try PendulumBench()
            defer { bench.sysfs.remove() }
            let summary = try trainOnBench(bench, directory: dir, learner: .asynchronous)
            #expect(summary.learner == .asynchronous)
            #expect(summary.realSteps == 60 && summary.control.steps == 60)
            #expect(summary.iterations >= 1 && summary.iterations <= 3 && summary.policiesPublished == summary.iterations)
            #expect(summary.curve.last?.realSteps == 60, "the last round learned from every transition")
            #expect(summary.policiesTaken >= 1 && summary.policiesTaken <= summary.policiesPublished + 1)
            #expect(summary.control.safety.firstFault == nil && summary.droppedTransitions == 0)
            if AllocationCounter.isAvailable { #expect(summary.control.allocations == 0) }
            expectBoardRun(bench, try pendulumLog(dir), episodes: 0..<3, steps: 20)
        }
    }

    @Test("pre-trained on the simulator, continued on the rig: same schema, the sim transitions stay, episode indices go on")
    func resumeSimulatorRunOnBoard() throws {
        try withTemporaryDirectory { dir in
            var options = TrainingOptions()
            options.seed = 3
            options.maxRealSteps = 20
            options.evaluationEpisodes = 1
            options.dataDirectory = dir
            var h = Hyperparameters()
            h.ppoIterationsPerEpisode = 1
            _ = try trainOnSimulator(rig: .pendulum, knownReward: false, options: options, hyperparameters: h,
                                     observer: CurveRecorder())
            let bench = try PendulumBench()
            defer { bench.sysfs.remove() }
            let summary = try trainOnBench(bench, directory: dir, learner: .lockstep, maxRealSteps: 60, resume: true)
            #expect(summary.recoveredRecords == 20 && summary.realSteps == 60 && summary.iterations == 3)
            #expect(summary.control.steps == 40, "two board episodes of 20 steps")
            let log = try pendulumLog(dir)
            #expect(log.count == 60 && log.prefix(20).allSatisfy { $0.episode == 0 })
            #expect(Set(log.dropFirst(20).map(\.episode)) == [1, 2])
            bench.expectSafeState("after the resumed run")
        }
    }

    @Test("a pendulum that does not come to rest is refused before the first episode with the reason; nothing is driven")
    func notAtRest() throws {
        try withTemporaryDirectory { dir in
            let bench = try PendulumBench()
            defer { bench.sysfs.remove() }
            bench.rig.reset(theta: Double.pi / 2, thetaDot: 0)  // horizontal: it swings as soon as time runs
            var rest = boardTrainingOptions()
            rest.restTimeoutNs = 300_000_000
            var failure: BoardRunError?
            do throws(BoardRunError) { _ = try trainOnBench(bench, directory: dir, learner: .lockstep, rest: rest) } catch { failure = error }
            guard case .training(.rig(let text)) = failure else {
                Issue.record("expected a rig error, got \(String(describing: failure))")
                return
            }
            #expect(text.hasPrefix("before training episode 1 the pendulum encoder still moved "))
            #expect(text.contains("the pendulum must hang still") && text.contains("--settle-timeout") && text.contains("--resume"))
            #expect(bench.sysfs.dutyWrites.allSatisfy { $0 == 0 }, "no drive before the rig was at rest")
            #expect(try pendulumLog(dir).isEmpty)
            bench.expectSafeState("after refusing to start")
        }
    }
}
