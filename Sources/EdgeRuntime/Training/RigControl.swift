import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// How a simulated rig's clock runs under the control loop.
public struct RigTiming: Equatable, Sendable {
    /// Charge the host's compute time of each step to the plant (latencies then measure real cost;
    /// runs are no longer exactly repeatable).
    public var chargesComputeTime: Bool
    /// Wall-clock pacing of the simulation: 0 as fast as possible, 1 real time (see `RigClock`).
    public var speed: Double

    public init(chargesComputeTime: Bool, speed: Double = 0) {
        self.chargesComputeTime = chargesComputeTime
        self.speed = speed
    }

    /// Exactly repeatable and as fast as the host can: steps take no virtual time.
    public static var lockstep: RigTiming { RigTiming(chargesComputeTime: false) }
}

/// What one episode in the control loop did.
public struct EpisodeOutcome {
    /// Control steps run (actions sent).
    public var steps = 0
    /// Sum of the rig's true-state reward over the periods the episode's actions drove.
    public var trueReturn: Double = 0
    /// Why the loop ended (`.signal` after Ctrl-C).
    public var exit: LoopExit = .completed
}

/// One simulated rig driven through the real-time runtime exactly as a board drives hardware: a
/// `ControlSession` (fixed-rate loop on the rig's virtual clock, sensors decoded from simulated edge
/// events, the policy from a `PolicyMailbox`, the safety layer with the rig's `safetyLimits`, the
/// plant's safe state on the way out). Used to collect training episodes and
/// to deploy a checkpoint's policy (`edge-ctl run`).
///
/// Episode timing: the rig is reset and the sensors homed; the first step's deadline is that moment,
/// so step k senses s_k at t = k·T and its action drives the plant from there (plus the host's
/// compute time when it is charged) until step k + 1 senses s_{k+1}.
public final class RigControl<Plant: RigBackedPlant, let Obs: Int, let Act: Int> {
    public typealias Policy = GaussianPolicy<Obs, Act>
    public typealias Clock = RigClock<Plant.RigType>

    public let plant: Plant
    public let clock: Clock
    public let loop: ControlLoop<Clock>
    public let step: ControlStep<Plant.IO>
    public let mailbox: PolicyMailbox<Policy>
    public let session: ControlSession<Clock, Plant.IO, Policy>
    let transitions = EpisodeTransitions<Obs, Act>()

    /// - Parameters:
    ///   - policy: the policy the loop starts with (copied into the mailbox as version 0).
    ///   - explore: sample actions (data collection) rather than the policy's mean.
    ///   - stopsOnSignals: end at a step boundary on SIGINT/SIGTERM (after `StopSignal.installHandlers()`).
    public init(policy: Policy, explore: Bool, timing: RigTiming, stopsOnSignals: Bool, seed: UInt64)
        throws(LineError) {
        precondition(Plant.observationSize == Obs && Plant.actionSize == Act, "policy shapes differ from the plant's")
        plant = try Plant(mode: .board)
        let periodNs = plant.controlPeriodNs
        clock = RigClock(rig: plant.rig, chargesComputeTime: timing.chargesComputeTime, speed: timing.speed)
        loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: stopsOnSignals)
        step = ControlStep(plant: plant.io, limits: Plant.safetyLimits(periodNs: periodNs), periodNs: periodNs)
        let makePolicy = { Self.makePolicy() }
        mailbox = PolicyMailbox(initial: policy, makeSlot: makePolicy)
        session = ControlSession(loop: loop, step: step, mailbox: mailbox, makePolicy: makePolicy,
                                 explore: explore, seed: seed)
    }

    /// A control-loop copy of the agent's policy shape and bounds (its parameters are copied in later).
    static func makePolicy() -> Policy { makeControlPolicy(observationBounds: Plant.observationBounds) }

    /// Runs one episode of up to `steps` steps from the start state of `startSeed` (the session's
    /// random generator reseeded with `actionSeed`, so an episode is repeatable on its own: a resumed
    /// run collects what an uninterrupted one would). `random` proposes uniform random actions instead
    /// of the policy's. For each transition (s, a, s') — a the action that went out after the safety
    /// layer — `transition` gets what the safety layer did at either of its two steps, and returns
    /// false to end the episode. The plant is left in its safe state.
    public func runEpisode(
        startSeed: UInt64, actionSeed: UInt64, steps: Int, random: Bool,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ next: UnsafePointer<Float>,
                     _ interventions: SafetyInterventions) -> Bool
    ) throws(LineError) -> EpisodeOutcome {
        try plant.reset(seed: startSeed)
        clock.rigWasReset()
        if plant.health.isHealthy { step.safety.clearFault() }  // re-homed: a latched fault's cause is gone
        session.rng = RandomSource(seed: actionSeed)
        session.randomActions = random
        loop.start(firstDeadlineNs: clock.nowNs)
        var outcome = EpisodeOutcome()
        var trueReturn = 0.0
        try transitions.run(session, steps: steps, outcome: &outcome,
                            completed: { trueReturn += plant.rig.lastReward }, transition: transition)
        outcome.trueReturn = trueReturn
        return outcome
    }

    /// Latency, jitter, deadlines, allocations and safety over every step run so far.
    public var report: ControlLoopReport {
        ControlLoopReport(loop: loop, allocations: session.stepAllocations, safety: step.safety.report)
    }
}

/// A control-loop copy of an agent's policy shape (parameters are copied in later), actions in [-1, 1].
func makeControlPolicy<let Obs: Int, let Act: Int>(observationBounds: [Float]) -> GaussianPolicy<Obs, Act> {
    var rng = RandomSource(seed: 0)
    return GaussianPolicy(observationBounds: observationBounds,
                          actionLow: [Float](repeating: -1, count: Act), actionHigh: [Float](repeating: 1, count: Act),
                          initialLogStd: 0, hiddenGain: 1, outputScale: 1, maxLanes: 0, rng: &rng)
}

/// The transition bookkeeping of one episode through a control session, shared by the simulated rig
/// (`RigControl`) and a board's real rig (`BoardTrainingPlant`): step k's observation completes the
/// transition (s_{k-1}, a_{k-1}, s_k), a the action that went out after the safety layer, with the
/// safety layer's interventions at either step; a completed episode senses once more for the last s'
/// (a fault latched by then marks it `.sensorFault`). `completed` runs before each transition is
/// handed over; `transition` returns false to end the episode. No allocation per step.
final class EpisodeTransitions<let Obs: Int, let Act: Int> {
    /// The previous step's observation and applied action (the s and a of the transition that the
    /// current step's observation completes).
    let previousObservation = allocateFloats(Obs)
    let previousAction = allocateFloats(Act)

    deinit {
        previousObservation.deallocate()
        previousAction.deallocate()
    }

    func run<Clock: ControlClock, IO: PlantIO & EncoderCountReporting>(
        _ session: ControlSession<Clock, IO, GaussianPolicy<Obs, Act>>, steps: Int, outcome: inout EpisodeOutcome,
        completed: () -> Void,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ next: UnsafePointer<Float>,
                     _ interventions: SafetyInterventions) -> Bool
    ) throws(LineError) {
        let step = session.step
        var previous: ControlStepRecord? = nil
        var count = 0
        let observation = UnsafePointer(step.observation.baseAddress!)
        let previousObservation = self.previousObservation, previousAction = self.previousAction
        let exit = try session.run(steps: steps, pollEveryNs: sensorPollPeriodNs, finalObservation: true) { record in
            count += 1
            var goOn = true
            if let previous {
                completed()
                goOn = transition(previousObservation, previousAction, observation,
                                  previous.interventions.union(record.interventions))
            }
            previousObservation.update(from: observation, count: Obs)
            previousAction.update(from: step.appliedAction, count: Act)
            previous = record
            return goOn
        }
        outcome.steps += count
        outcome.exit = exit
        if exit == .completed, let previous {
            completed()
            // The final observation had no safety verdict of its own; a fault latched by then taints it.
            let final: SafetyInterventions = step.safety.latchedFault != nil ? .sensorFault : []
            _ = transition(previousObservation, previousAction, observation, previous.interventions.union(final))
        }
    }
}

/// One bar of the control-step latency histogram: `count` steps took between `lowerNs` and `upperNs`.
public struct LatencyBucket: Equatable, Sendable {
    public var lowerNs: Int64
    public var upperNs: Int64
    public var count: UInt64
}

/// What the real-time side of a run measured: the control loop's timing, the allocations inside its
/// steps and the safety layer's record.
public struct ControlLoopReport {
    public var steps = 0
    /// Deadline to end-of-step time (the host's compute time when the plant's clock is charged for it).
    public var latencyP50Ns: Int64 = 0
    public var latencyP99Ns: Int64 = 0
    public var latencyP999Ns: Int64 = 0
    public var latencyMaxNs: Int64 = 0
    /// Deadline to wake-up time.
    public var jitterP50Ns: Int64 = 0
    public var jitterP99Ns: Int64 = 0
    /// Host time from wake-up to the end of the step (what the step costs on this machine, also on a
    /// simulated clock that does not charge it to the plant).
    public var stepTimeP50Ns: Int64 = 0
    public var stepTimeP99Ns: Int64 = 0
    public var stepTimeMaxNs: Int64 = 0
    public var missedDeadlines = 0
    /// Heap allocations inside the control steps, all steps together; nil when not measured.
    public var allocations: UInt64? = nil
    public var safety = SafetyReport()
    /// Non-empty buckets of the step-time histogram, shortest first (for a picture).
    public var stepTimeBuckets: [LatencyBucket] = []

    public init() {}

    init<Clock: ControlClock>(loop: ControlLoop<Clock>, allocations: UInt64?, safety: SafetyReport) {
        steps = loop.steps
        latencyP50Ns = loop.latency.percentile(0.5)
        latencyP99Ns = loop.latency.percentile(0.99)
        latencyP999Ns = loop.latency.percentile(0.999)
        latencyMaxNs = loop.latency.maxNs
        jitterP50Ns = loop.jitter.percentile(0.5)
        jitterP99Ns = loop.jitter.percentile(0.99)
        stepTimeP50Ns = loop.stepTime.percentile(0.5)
        stepTimeP99Ns = loop.stepTime.percentile(0.99)
        stepTimeMaxNs = loop.stepTime.maxNs
        missedDeadlines = loop.missedDeadlines
        self.allocations = allocations
        self.safety = safety
        stepTimeBuckets = loop.stepTime.nonEmptyBuckets
    }

    /// Allocations per control step; nil when not measured.
    public var allocationsPerStep: Double? {
        guard let allocations else { return nil }
        return steps > 0 ? Double(allocations) / Double(steps) : 0
    }

    /// One line: step time, latency and jitter percentiles, missed deadlines, allocations.
    public var summary: String {
        var line = "\(steps) control steps: step time p50 \(formatDuration(stepTimeP50Ns)), p99 "
            + "\(formatDuration(stepTimeP99Ns)), max \(formatDuration(stepTimeMaxNs)); latency p50 "
            + "\(formatDuration(latencyP50Ns)), p99 \(formatDuration(latencyP99Ns)), max \(formatDuration(latencyMaxNs)); "
            + "jitter p50 \(formatDuration(jitterP50Ns)), p99 \(formatDuration(jitterP99Ns)); missed deadlines \(missedDeadlines); "
        if let allocations {
            line += "allocations in steps \(allocations)"
        } else {
            line += "allocations not measured"
        }
        return line
    }

    /// Bars of the step-time histogram (wake-up to action out, host clock), one per non-empty bucket,
    /// at the bucket's geometric middle in µs.
    public func latencyPlot(title: String) -> SVGPlot {
        var plot = SVGPlot(title: title, xLabel: "control step, wake-up to action out (µs, log scale)",
                           yLabel: "steps", logX: true)
        plot.series.append(SVGPlot.Series(
            name: "steps", color: "#1f77b4",
            x: stepTimeBuckets.map { (Double(max($0.lowerNs, 1)) * Double(max($0.upperNs, 1))).squareRoot() / 1e3 },
            y: stepTimeBuckets.map { Double($0.count) }, bars: true))
        return plot
    }
}

extension LatencyHistogram {
    /// The buckets holding samples, with their edges clamped to the exact min and max.
    var nonEmptyBuckets: [LatencyBucket] {
        var result: [LatencyBucket] = []
        for index in 0..<Self.bucketCount where buckets[index] > 0 {
            let lower = index == 0 ? 0 : Self.upperEdge(index - 1) + 1
            result.append(LatencyBucket(lowerNs: max(lower, minNs), upperNs: min(Self.upperEdge(index), maxNs),
                                        count: buckets[index]))
        }
        return result
    }
}
