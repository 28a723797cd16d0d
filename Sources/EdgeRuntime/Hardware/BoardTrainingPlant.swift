import EdgeCore
import EdgeIO
import EdgeLearning
import FirmwareSim

/// How a board's real rig is brought to rest before each training episode, and how long episodes are.
public struct BoardTrainingOptions {
    /// Steps per episode; nil: the task's (`SimPlant.episodeSteps`, the simulated rig's episode length).
    public var episodeSteps: Int? = nil
    /// The encoders must stay within `restToleranceCounts` for this long (one watch window) before an
    /// episode starts; 0 skips the check (the rig is homed where it is). A real pendulum needs a few
    /// seconds to stop swinging after an episode: the wait runs until it has.
    public var settleNs: Int64 = 1_000_000_000
    /// Largest encoder movement (counts, each encoder) accepted during one window.
    public var restToleranceCounts: Int64 = 8
    /// Give up waiting for rest after this long (the run ends with a message; what was collected is
    /// synced, `--resume` continues it).
    public var restTimeoutNs: Int64 = 30_000_000_000

    public init() {}
}

/// A board's real rig as a training plant, for the one `Trainer`: episodes through a `ControlSession`
/// on the monotonic clock at the rig's control period, on the lines and hardware PWM that
/// `openBoardRig` opened (as `run --board` does).
///
/// Before each episode: motor off, then the encoders are watched in windows of `settleNs` until one
/// window moves at most `restToleranceCounts` (or `restTimeoutNs` passes: `TrainingError.rig` with what
/// to do), then the sensors are homed at the task's rest state (pendulum θ = π hanging, motor at rest,
/// cart mid-rail with the pole hanging). The start state is therefore wherever the rig rests:
/// `startSeed` cannot place a real pendulum. It only picks the motor rig's speed set-point (as the
/// simulated motor's reset does).
///
/// Rewards are the task's reward from the sensors (`SimPlant.reward(observation:action:)` of s and
/// the applied a); `EpisodeOutcome.trueReturn` is their sum (there is no true state on hardware).
///
/// Evaluation is not run on the hardware: `evaluate` returns (0, 0) without touching the rig, and
/// `trainOnBoard` sets `evaluationEpisodes` to 0. Deterministic evaluation episodes would have to share
/// the rig with collection (the learner thread evaluates), so the learning curve of a board run is the
/// collected episodes' sensor returns (`IterationStats.episodeReturn`, exploring policy). This is what
/// lets the asynchronous learner run: it never touches the hardware, only the mailbox.
///
/// Threads: `runEpisode` runs on the control (calling) thread; `publish` may be called from the
/// learner thread (the mailbox is single-writer, single-reader: only one thread publishes).
public final class BoardTrainingPlant<IO: PlantIO & EncoderCountReporting, Task: SimPlant, let Obs: Int, let Act: Int>:
    TrainingPlant {
    public typealias Policy = GaussianPolicy<Obs, Act>
    public let rigIO: BoardRigIO<IO>
    public let clock = MonotonicClock()
    public let loop: ControlLoop<MonotonicClock>
    public let step: ControlStep<IO>
    public let mailbox: PolicyMailbox<Policy>
    public let session: ControlSession<MonotonicClock, IO, Policy>
    public let rest: BoardTrainingOptions
    let transitions = EpisodeTransitions<Obs, Act>()
    /// Episodes started (each after coming to rest and homing).
    public private(set) var episodesStarted = 0

    public init(rig: BoardRigIO<IO>, periodNs: Int64, rest: BoardTrainingOptions, stopsOnSignals: Bool, seed: UInt64) {
        precondition(IO.observationSize == Obs && IO.actionSize == Act && Task.kind == IO.kind,
                     "policy shapes differ from the rig's I/O")
        precondition((rest.episodeSteps ?? 1) > 0, "an episode needs at least one step")
        rigIO = rig
        self.rest = rest
        loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: stopsOnSignals)
        step = ControlStep(plant: rig.io, limits: Task.safetyLimits(periodNs: periodNs), periodNs: periodNs)
        let makePolicy = { () -> Policy in makeControlPolicy(observationBounds: Task.observationBounds) }
        mailbox = PolicyMailbox(initial: makePolicy(), makeSlot: makePolicy)
        session = ControlSession(loop: loop, step: step, mailbox: mailbox, makePolicy: makePolicy,
                                 explore: true, seed: seed)
    }

    public var schema: UInt32 { TransitionRecord.schema(rig: Task.kind, observations: Obs, actions: Act) }
    public var rig: RigKind? { Task.kind }
    public var observationBounds: [Float] { Task.observationBounds }
    public var episodeSteps: Int { rest.episodeSteps ?? Task.episodeSteps }
    /// Collection on the control thread, learning on the learner thread: evaluation never touches the rig.
    public var supportsAsynchronousLearning: Bool { true }
    public var controlReport: ControlLoopReport {
        ControlLoopReport(loop: loop, allocations: session.stepAllocations, safety: step.safety.report)
    }
    public var policiesTaken: Int { session.policiesTaken }

    public func publish(_ policy: Policy) { mailbox.publish(copyOf: policy) }

    /// Waits for rest and homes (see the type's comment), then one episode through the control session.
    public func runEpisode(
        startSeed: UInt64, actionSeed: UInt64, steps: Int, random: Bool,
        transition: (_ obs: UnsafePointer<Float>, _ action: UnsafePointer<Float>, _ reward: Float,
                     _ next: UnsafePointer<Float>, _ terminal: Bool, _ interventions: SafetyInterventions) -> Bool
    ) throws(TrainingError) -> EpisodeOutcome {
        try comeToRest()
        if Task.kind == .motor {
            let motor = MotorRig(options: RigOptions(mode: .ideal))
            motor.reset(seed: startSeed)
            rigIO.setPoint(motor.setPoint)
        }
        if rigIO.io.health.isHealthy { step.safety.clearFault() }  // re-homed: a latched fault's cause is gone
        episodesStarted += 1
        session.rng = RandomSource(seed: actionSeed)
        session.randomActions = random
        loop.start(firstDeadlineNs: clock.nowNs)
        var outcome = EpisodeOutcome()
        var sensorReturn = 0.0
        do throws(LineError) {
            try transitions.run(session, steps: steps, outcome: &outcome, completed: {}) { obs, action, next, interventions in
                let reward = Task.reward(observation: obs, action: action)
                sensorReturn += Double(reward)
                return transition(obs, action, reward, next, false, interventions)
            }
        } catch {
            throw .line(error)
        }
        outcome.trueReturn = sensorReturn
        return outcome
    }

    /// Not run on hardware (see the type's comment): (0, 0), the rig untouched.
    public func evaluate(_ policy: Policy, episodes: Int, seed: (Int) -> UInt64) throws(TrainingError) -> (mean: Float, std: Float) {
        (0, 0)
    }

    /// Motor off; watch the encoders in windows of `settleNs` until one is still; home there.
    func comeToRest() throws(TrainingError) {
        var most: Int64 = 0
        var waitedNs: Int64 = 0
        do throws(LineError) {
            try rigIO.io.stop()
            try rigIO.home()
            guard rest.settleNs > 0 else { return }
            let start = clock.nowNs
            while true {
                most = try encoderMovement(rigIO.io, clock: clock, durationNs: rest.settleNs, counts: rigIO.counts)
                if most <= rest.restToleranceCounts {
                    try rigIO.home()
                    return
                }
                waitedNs = clock.nowNs - start
                if waitedNs >= rest.restTimeoutNs { break }
            }
        } catch {
            throw .line(error)
        }
        throw .rig(Self.notAtRest(Task.kind, episode: episodesStarted, counts: most, options: rest, waitedNs: waitedNs))
    }

    static func notAtRest(_ kind: RigKind, episode: Int, counts: Int64, options: BoardTrainingOptions, waitedNs: Int64) -> String {
        "before training episode \(episode + 1) the \(kind.rawValue) encoder still moved \(counts) counts (more than "
            + "\(options.restToleranceCounts)) in \(options.settleNs / 1_000_000) ms after waiting "
            + "\(waitedNs / 1_000_000) ms for rest: \(restRequirement(kind)); stop it (or allow longer with "
            + "--settle-timeout) and continue the run with --resume (every collected transition is synced)"
    }
}

/// Trains on `board`'s real `rig` (see `BoardTrainingPlant`): the rig is opened as `run --board` opens
/// it (`openBoardRig`), the one `Trainer` runs on it with the same dataset and checkpoint layout as the
/// simulated rig of that kind (same schema: a run trained on the simulator can be continued on the rig
/// with `resume`, and back). `options.evaluationEpisodes` is set to 0: evaluation is not run on
/// hardware. The outputs end in their safe state however the run ends.
public func trainOnBoard<Backend: LineBackend, PWMs: PWMChannelOpener, Observer: TrainingObserver>(
    rig: RigKind, board: BoardDescription, backend: Backend, pwm: PWMs, rest: BoardTrainingOptions, knownReward: Bool,
    options: TrainingOptions, hyperparameters: Hyperparameters, observer: Observer
) throws(BoardRunError) -> TrainingSummary {
    var options = options
    options.evaluationEpisodes = 0
    return try openBoardRig(kind: rig, board: board, backend: backend, pwm: pwm, motorSetPoint: nil,
                            BoardTraining(rest: rest, knownReward: knownReward, options: options,
                                          hyperparameters: hyperparameters, observer: observer))
}

/// Builds the trainer for the opened rig's shapes (as `withSimTrainer` does for the simulated rigs) and runs it.
struct BoardTraining<Observer: TrainingObserver>: BoardRigVisitor {
    let rest: BoardTrainingOptions
    let knownReward: Bool
    let options: TrainingOptions
    let hyperparameters: Hyperparameters
    let observer: Observer

    func visit<IO: PlantIO & EncoderCountReporting>(_ rig: BoardRigIO<IO>) throws(BoardRunError) -> TrainingSummary {
        switch IO.kind {
        case .pendulum: return try train(rig, PendulumPlant.self, Shapes<PendulumPlant, 3, 1, 4, 6>())
        case .motor: return try train(rig, MotorPlant.self, Shapes<MotorPlant, 2, 1, 3, 4>())
        case .cartpole: return try train(rig, CartPolePlant.self, Shapes<CartPolePlant, 5, 1, 6, 10>())
        }
    }

    /// The agent's shapes for a rig (Swift's integer generics cannot compute Obs + Act).
    struct Shapes<Plant: SimPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int> {}

    func train<IO: PlantIO & EncoderCountReporting, Plant: RigBackedPlant, let Obs: Int, let Act: Int, let ObsAct: Int, let Obs2: Int>(
        _ rig: BoardRigIO<IO>, _ plant: Plant.Type, _ shapes: Shapes<Plant, Obs, Act, ObsAct, Obs2>
    ) throws(BoardRunError) -> TrainingSummary {
        let periodNs: Int64
        do throws(LineError) { periodNs = try Plant(mode: .board).controlPeriodNs } catch { throw .line(error) }
        let source = BoardTrainingPlant<IO, Plant, Obs, Act>(rig: rig, periodNs: periodNs, rest: rest,
                                                            stopsOnSignals: options.stopsOnSignals, seed: options.seed)
        do throws(TrainingError) {
            if knownReward {
                let trainer = try Trainer<BoardTrainingPlant<IO, Plant, Obs, Act>, Obs, Act, ObsAct, Obs2, KnownReward<Plant>>(
                    source: source, options: options, hyperparameters: hyperparameters) { _ in (KnownReward<Plant>(), nil) }
                return try trainer.run(observer: observer)
            }
            let trainer = try Trainer<BoardTrainingPlant<IO, Plant, Obs, Act>, Obs, Act, ObsAct, Obs2, RewardModel<Obs, Act, ObsAct>>(
                source: source, options: options, hyperparameters: hyperparameters) { rng in
                let model = RewardModel<Obs, Act, ObsAct>(hyperparameters: hyperparameters.models, rng: &rng)
                return (model, model)
            }
            return try trainer.run(observer: observer)
        } catch {
            throw .training(error)
        }
    }
}
