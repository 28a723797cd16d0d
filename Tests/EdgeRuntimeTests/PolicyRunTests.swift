import EdgeLearning
import EdgeRuntime
import FirmwareSim
import Testing

@Suite("Running a checkpoint's policy in the control loop")
struct PolicyRunTests {
    @Test("a pendulum checkpoint runs 2 whole episodes in the loop without allocating, from the evaluation starts")
    func pendulumCheckpointRuns() throws {
        try withTemporaryDirectory { dir in
            var options = TrainingOptions()
            options.seed = 3
            options.maxRealSteps = 200
            options.evaluationEpisodes = 1
            options.dataDirectory = dir
            var h = Hyperparameters()
            h.ppoIterationsPerEpisode = 1
            _ = try trainOnSimulator(rig: .pendulum, knownReward: false, options: options, hyperparameters: h,
                                     observer: CurveRecorder())

            // Warm-up: the Swift runtime allocates generic type metadata the first time a specialization
            // is used in the process (which test touches it first varies with the parallel test order);
            // the promise is about the steady state, so the measured run comes second.
            _ = try runCheckpointPolicy(directory: dir, rig: .pendulum, episodes: 1, seed: 3, stopsOnSignals: false)
            let report = try runCheckpointPolicy(directory: dir, rig: .pendulum, episodes: 2, seed: 3,
                                                 stopsOnSignals: false)
            #expect(report.exit == .completed)
            #expect(report.steps == 2 * PendulumPlant.episodeSteps)
            #expect(report.episodes == 2 && report.episodeReturns.count == 2)
            if AllocationCounter.isAvailable {
                #expect(report.control.allocations == 0)
                #expect(report.control.allocationsPerStep == 0)
            } else {
                #expect(report.control.allocations == nil)
            }
            #expect(report.control.latencyP50Ns <= report.control.latencyP99Ns && report.control.latencyP99Ns <= report.control.latencyMaxNs)
            #expect(report.control.latencyMaxNs > 0, "the host's compute time is charged to the plant's clock")
            #expect(report.control.stepTimeBuckets.reduce(0) { $0 + $1.count } == UInt64(report.steps))
            #expect(report.control.missedDeadlines == 0, "a step of microseconds within a 50 ms period")
            #expect(report.control.safety.steps == report.steps && report.control.safety.firstFault == nil)

            // Same starts as the evaluation; the loop's actions go out after the step's compute time,
            // so the returns are close, not equal.
            let evaluation = try evaluateCheckpoint(directory: dir, rig: .pendulum, episodes: 2, seed: 3)
            #expect(report.returnMean.isFinite && report.returnMean < 0 && report.returnMean > -2000)
            #expect(abs(report.returnMean - evaluation.mean) < 0.05 * abs(evaluation.mean),
                    "loop \(report.returnMean) vs evaluation \(evaluation.mean)")
        }
    }
}
