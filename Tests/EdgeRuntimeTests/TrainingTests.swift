import EdgeIO
import EdgeLearning
import EdgeRuntime
import Foundation
import Testing

final class CurveRecorder: TrainingObserver {
    var iterations: [IterationStats] = []
    func iterationFinished(_ stats: IterationStats, options: TrainingOptions) { iterations.append(stats) }
}

/// A short budget: 2 episodes of the pendulum, 4 PPO iterations each, 2 evaluation episodes.
func shortRun(seed: UInt64, data: String? = nil, resume: Bool = false, maxRealSteps: Int = 400)
    throws(TrainingError) -> TrainingSummary {
    var options = TrainingOptions()
    options.seed = seed
    options.maxRealSteps = maxRealSteps
    options.evaluationEpisodes = 2
    options.dataDirectory = data
    options.resume = resume
    var h = Hyperparameters()
    h.ppoIterationsPerEpisode = 4
    return try trainOnSimulator(rig: .pendulum, knownReward: false, options: options, hyperparameters: h,
                                observer: CurveRecorder())
}

@Suite("Training on the simulator")
struct TrainingTests {
    @Test("the same seed gives the same learning curve twice, number for number")
    func sameSeedSameCurve() throws {
        let a = try shortRun(seed: 11), b = try shortRun(seed: 11), c = try shortRun(seed: 12)
        #expect(a.curve.count == 2)
        for (x, y) in zip(a.curve, b.curve) {
            #expect(x.realSteps == y.realSteps)
            #expect(x.episodeReturn == y.episodeReturn)
            #expect(x.evaluationMean == y.evaluationMean)
            #expect(x.evaluationStd == y.evaluationStd)
            #expect(x.improvement.imaginedReturn == y.improvement.imaginedReturn)
            #expect(x.improvement.dynamicsFit.holdoutLoss == y.improvement.dynamicsFit.holdoutLoss)
        }
        #expect(a.curve.last?.evaluationMean != c.curve.last?.evaluationMean, "another seed gave the same run")
    }

    @Test("a resumed run keeps every synced transition and continues from the checkpoint")
    func resumeKeepsTransitions() throws {
        try withTemporaryDirectory { dir in
            let first = try shortRun(seed: 5, data: dir, maxRealSteps: 400)
            #expect(first.realSteps == 400)
            let info = try DataDirectory(path: dir).summary()
            #expect(info.datasetRecords == 400)
            #expect(info.checkpointIteration == 2)
            // Starting again without --resume is refused; with it the run goes on to 600 steps.
            #expect(throws: TrainingError.self) { try shortRun(seed: 5, data: dir, maxRealSteps: 600) }
            let resumed = try shortRun(seed: 5, data: dir, resume: true, maxRealSteps: 600)
            #expect(resumed.recoveredRecords == 400)
            #expect(resumed.realSteps == 600)
            #expect(resumed.curve.count == 3)
            #expect(resumed.curve[0].evaluationMean == first.curve[0].evaluationMean)
            #expect(try DataDirectory(path: dir).summary().datasetRecords == 600)
        }
    }
}
