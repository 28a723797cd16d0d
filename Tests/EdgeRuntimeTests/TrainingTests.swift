import EdgeCore
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

@Suite("Collecting real episodes through the control loop")
struct CollectionTests {
    /// Records every transition a `RigControl` episode hands out.
    final class Recorded {
        var obs: [[Float]] = [], actions: [[Float]] = [], next: [[Float]] = []
    }

    @Test("an episode hands out one transition per step, each s' the next step's s, with the applied action")
    func transitionsChain() throws {
        var rng = RandomSource(seed: 4)
        let policy = GaussianPolicy<3, 1>(observationBounds: PendulumPlant.observationBounds, actionLow: [-1],
                                          actionHigh: [1], initialLogStd: 0, hiddenGain: 1, outputScale: 1,
                                          maxLanes: 0, rng: &rng)
        let control = try RigControl<PendulumPlant, 3, 1>(policy: policy, explore: true, timing: .lockstep,
                                                           stopsOnSignals: false, seed: 4)
        let r = Recorded()
        let outcome = try control.runEpisode(startSeed: 9, actionSeed: 10, steps: 50, random: true) { o, a, n, flags in
            r.obs.append(Array(UnsafeBufferPointer(start: o, count: 3)))
            r.actions.append([a[0]])
            r.next.append(Array(UnsafeBufferPointer(start: n, count: 3)))
            #expect(flags.isDisjoint(with: [.sensorFault, .eStop]))
            return true
        }
        #expect(outcome.exit == .completed && outcome.steps == 50)
        #expect(r.obs.count == 50)
        for k in 1..<50 { #expect(r.obs[k] == r.next[k - 1], "transition \(k) does not start where \(k - 1) ended") }
        // Random actions spread over [-1, 1] (the pendulum has no slew limit) and are what went out.
        #expect(r.actions.allSatisfy { abs($0[0]) <= 1 })
        #expect((r.actions.map { $0[0] }.max() ?? 0) > 0.5 && (r.actions.map { $0[0] }.min() ?? 0) < -0.5)
        // The start state is the seeded reset: cos² + sin² = 1 within the encoder's resolution.
        #expect(abs(r.obs[0][0] * r.obs[0][0] + r.obs[0][1] * r.obs[0][1] - 1) < 1e-4)
        // The same seeds give the same episode.
        let again = Recorded()
        _ = try control.runEpisode(startSeed: 9, actionSeed: 10, steps: 50, random: true) { o, a, _, _ in
            again.obs.append(Array(UnsafeBufferPointer(start: o, count: 3)))
            again.actions.append([a[0]])
            return true
        }
        #expect(again.obs == r.obs && again.actions == r.actions)
        if AllocationCounter.isAvailable { #expect(control.report.allocations == 0) }
    }

    @Test("an asynchronous run learns on its own thread and the loop takes the published policies")
    func asynchronousRun() throws {
        try withTemporaryDirectory { dir in
            var options = TrainingOptions()
            options.seed = 3
            options.maxRealSteps = 1_000
            options.evaluationEpisodes = 1
            options.dataDirectory = dir
            options.learner = .asynchronous
            options.simulationSpeed = 20  // the 2 s of motor-rig time take about 0.1 s
            var h = Hyperparameters()
            h.ppoIterationsPerEpisode = 2
            let recorder = CurveRecorder()
            let summary = try trainOnSimulator(rig: .motor, knownReward: false, options: options, hyperparameters: h,
                                               observer: recorder)
            #expect(summary.learner == .asynchronous)
            #expect(summary.realSteps == 1_000)
            #expect(summary.control.steps == 1_000)
            #expect(summary.iterations >= 1 && summary.iterations == recorder.iterations.count)
            #expect(summary.policiesPublished == summary.iterations)
            #expect(summary.policiesTaken >= 1 && summary.policiesTaken <= summary.policiesPublished + 1)
            // Steps take microseconds in a 10 ms period (0.5 ms at 20x); a preempted step on a loaded
            // machine can still miss one, so only a pattern of misses fails.
            #expect(summary.control.missedDeadlines < 10, "\(summary.control.missedDeadlines) missed deadlines")
            if AllocationCounter.isAvailable { #expect(summary.control.allocations == 0) }
            // The learner's rounds saw more and more data; the last saw all of it.
            let steps = recorder.iterations.map(\.realSteps)
            #expect(steps == steps.sorted())
            #expect(steps.last == 1_000)
            let info = try DataDirectory(path: dir).summary()
            #expect(info.datasetRecords == 1_000 - summary.droppedTransitions)
            #expect(info.checkpointIteration == summary.iterations)
        }
    }
}

@Suite("Transition hand-off")
struct TransitionHandoffTests {
    static func stage(_ handoff: TransitionHandoff<2, 1>, _ values: Range<Int>) {
        for t in values {
            let v = Float(t)
            handoff.append(obs: [v, -v], action: [2 * v], reward: -v, nextObs: [v + 1, -v - 1], terminal: t % 7 == 6,
                           episode: t / 5)
        }
    }

    @Test("published episodes reach the learner in order across the ring's wrap; a lagging learner misses rows, counted")
    func ringOrderAndOverrun() {
        let handoff = TransitionHandoff<2, 1>(episodeCapacity: 5, capacity: 12)
        let buffer = TransitionBuffer<2, 1>(capacity: 64)
        var logged: [Float] = []
        for episode in 0..<6 {  // 30 rows through a 12-row ring, drained after every second episode
            Self.stage(handoff, (5 * episode)..<(5 * episode + 5))
            #expect(handoff.pending == (episode % 2 == 1 ? 5 : 0))
            handoff.forEachUnpublished { obs, _, _, _, _, _ in logged.append(obs[0]) }
            handoff.publish()
            if episode % 2 == 1 { #expect(handoff.drain(into: buffer) == 10) }
        }
        #expect(logged == (0..<30).map(Float.init), "the log sees every row, in order")
        #expect(handoff.overrun == 0 && buffer.count == 30)
        for r in 0..<30 {
            let v = Float(r)
            #expect(buffer.observation(r, 0) == v && buffer.observation(r, 1) == -v && buffer.action(r, 0) == 2 * v)
            #expect(buffer.reward(r) == -v && buffer.nextObservation(r, 0) == v + 1)
            #expect(buffer.isTerminal(r) == (r % 7 == 6) && buffer.episode(r) == r / 5)
        }
        // Three episodes (15 rows) without draining: the ring takes 12, the last 3 are left out for the learner.
        for episode in 6..<9 {
            Self.stage(handoff, (5 * episode)..<(5 * episode + 5))
            handoff.publish()
        }
        #expect(handoff.overrun == 3 && handoff.pending == 12)
        #expect(handoff.drain(into: buffer) == 12)
        #expect(buffer.observation(41, 0) == 41, "the first 12 rows of the three episodes arrived, in order")
        // Staging holds one episode: a sixth row is refused.
        Self.stage(handoff, 45..<50)
        let v: Float = 99
        #expect(!handoff.append(obs: [v, v], action: [v], reward: v, nextObs: [v, v], terminal: false, episode: 9))
    }
}
