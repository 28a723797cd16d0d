import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning

/// How a policy runs on a board's rig: how long, and the checks around the loop.
public struct BoardRunOptions {
    /// Control steps to run; nil: `seconds`, else one episode of the rig's task (`SimPlant.episodeSteps`).
    public var steps: Int? = nil
    /// Wall-clock duration, rounded up to whole control periods (used when `steps` is nil).
    public var seconds: Double? = nil
    /// End at a step boundary on SIGINT/SIGTERM (after `StopSignal.installHandlers()`).
    public var stopsOnSignals = false
    /// After homing, the sensors are watched this long: the plant must be at rest (pendulum hanging
    /// still, motor stopped, cart and pole still). 0 skips the check.
    public var settleNs: Int64 = 500_000_000
    /// Largest encoder movement (counts, each encoder) accepted during `settleNs`.
    public var restToleranceCounts: Int64 = 8
    /// Motor rig: the speed to track, rad/s (the observation's ω* = setPoint / maxSpeed); nil: 0, or
    /// with `runCheckpointOnBoard` the set-point of the seed's first evaluation episode.
    public var motorSetPoint: Double? = nil
    /// Seed of the control session's random generator (deterministic actions use none).
    public var seed: UInt64 = 1

    public init() {}

    /// Steps for a loop of period `periodNs`: `steps`, else `seconds` rounded up, else `episodeSteps`.
    public func stepCount(periodNs: Int64, episodeSteps: Int) -> Int {
        if let steps { return steps }
        if let seconds { return max(1, Int((seconds * 1e9 / Double(periodNs)).rounded(.up))) }
        return episodeSteps
    }
}

/// What running a policy on a board's rig did.
public struct BoardRunReport {
    public var board: String
    public var rig: RigKind
    /// Kernel name of the GPIO chip opened by label (e.g. "gpiochip0").
    public var chipName: String
    /// The hardware PWM channel that drove the motor (e.g. "pwmchip0/pwm0").
    public var pwmChannel: String
    public var periodNs: Int64
    /// Steps run (the loop's count; fewer than asked when stopped).
    public var steps: Int
    /// Sum over the steps of the task's reward computed from the sensors: r(s_k, a_k) with s_k the
    /// step's observation and a_k the action that went out (`SimPlant.reward(observation:action:)`).
    public var rewardSum: Double
    /// Timing, allocations in the steps, the safety layer's record.
    public var control: ControlLoopReport
    /// Why the loop ended (`.signal` after Ctrl-C / SIGTERM).
    public var exit: LoopExit
}

/// One step as the caller of `runPolicyOnBoard` sees it (valid during the callback only).
public struct BoardStep {
    /// 0, 1, 2, ...
    public var index: Int
    public var timing: StepTiming
    public var interventions: SafetyInterventions
    /// The step's observation and the action that went out after the safety layer.
    public var observation: UnsafeBufferPointer<Float>
    public var action: UnsafeBufferPointer<Float>
    /// The task's reward of this step from the sensors.
    public var reward: Float
}

/// Why a board run could not start or go on.
public enum BoardRunError: Error {
    /// Opening the board's GPIO chip (by label) failed: no such chip on this machine, no permission,
    /// libgpiod missing. Front-ends report it as `boards probe` does.
    case chip(board: String, LineError)
    /// A line or PWM operation failed once the chip was open.
    case line(LineError)
    /// The board file or the rig is not fit to run: the rig is not wired, no hardware PWM on the
    /// PWM pin, the plant was moving while homing. One line with the fix.
    case setup(String)
    /// The checkpoint could not be read.
    case training(TrainingError)

    public var message: String {
        switch self {
        case .chip(let board, let error): return "board \(board): \(error.message)"
        case .line(let error): return error.message
        case .setup(let text): return text
        case .training(let error): return error.message
        }
    }
}

/// Runs `policy` (deterministic: the Gaussian's mean) on `board`'s wiring of `task`'s rig through the
/// real-time runtime: open the chip by label, request the rig's lines with the board file's flags,
/// find the PWM controller and open the pin's hardware channel, build the rig's `PlantIO` and H-bridge,
/// home the sensors with the plant at rest, then a `ControlSession` on the monotonic clock at
/// `periodNs` with the safety layer (`task.safetyLimits`: e-stop, stuck encoder, NaN/Inf guard,
/// watchdog, bounds). The outputs go to their safe state (duty 0, PWM disabled, lines released)
/// however it ends: completed, `onStep` returning false, SIGINT/SIGTERM, or an error.
///
/// Homing (the sim rigs' conventions, so a policy trained on FirmwareSim sees the same observation
/// layout): pendulum θ = π (hanging; θ = 0 upright), motor at rest, cart-pole cart at x = 0 (mid-rail)
/// with the pole hanging (θ = 0).
///
/// Motor drive: the rig's `pwm` pin must have a hardware PWM channel in the board file. Software PWM
/// on a GPIO line is deliberately not used for a motor: it is toggled by this loop, so a stalled loop
/// (page fault, preemption, a debugger) could leave the line high, which is full speed.
///
/// Generic over the backend (libgpiod on a board, FirmwareSim in tests) and the PWM opener (sysfs on
/// a board). `onStep` may return false to end the run.
public func runPolicyOnBoard<Backend: LineBackend, PWMs: PWMChannelOpener, Task: SimPlant, let Obs: Int, let Act: Int>(
    _ policy: GaussianPolicy<Obs, Act>, task: Task.Type, periodNs: Int64, board: BoardDescription,
    backend: Backend, pwm: PWMs, options: BoardRunOptions, onStep: (BoardStep) -> Bool = { _ in true }
) throws(BoardRunError) -> BoardRunReport {
    precondition(Task.observationSize == Obs && Task.actionSize == Act, "policy shapes differ from the task's")
    let steps = options.stepCount(periodNs: periodNs, episodeSteps: Task.episodeSteps)
    precondition(steps > 0, "a run needs at least one step")
    return try withoutActuallyEscaping(onStep) { (onStep) throws(BoardRunError) -> BoardRunReport in
        try openBoardRig(kind: Task.kind, board: board, backend: backend, pwm: pwm, motorSetPoint: options.motorSetPoint,
                         PolicyOnBoardRig<Task, Obs, Act>(policy: policy, periodNs: periodNs, steps: steps,
                                                          board: board.name, options: options, onStep: onStep))
    }
}

/// A board's rig opened for control: its `PlantIO` on the chip's lines and the hardware PWM, and what
/// to do with it besides the loop (home the sensors, read the raw encoder counts, switch the PWM off).
public struct BoardRigIO<IO: PlantIO & EncoderCountReporting> {
    public let io: IO
    /// Kernel name of the GPIO chip (e.g. "gpiochip0") and the PWM channel (e.g. "pwmchip0/pwm0").
    public let chipName: String
    public let pwmChannel: String
    /// Declares the rig's present position the task's rest state (see `runPolicyOnBoard`, Homing).
    let home: () throws(LineError) -> Void
    /// Raw encoder counts (pendulum and motor: (encoder, 0); cart-pole: (pole, cart)).
    let counts: () -> (Int64, Int64)
    let disable: () throws(LineError) -> Void
    /// Motor rig: the speed to track, rad/s (no effect on the other rigs).
    let setPoint: (Double) -> Void

    /// Motor off, PWM disabled, lines given back.
    func shutDown() {
        try? io.stop()
        try? disable()
        io.release()
    }
}

/// Something to do with a board's rig once it is open; `openBoardRig` picks the rig's I/O type.
protocol BoardRigVisitor {
    associatedtype Result
    func visit<IO: PlantIO & EncoderCountReporting>(_ rig: BoardRigIO<IO>) throws(BoardRunError) -> Result
}

/// Opens `board`'s wiring of the `kind` rig (the steps of `runPolicyOnBoard`: board file checks, chip
/// by label, the header lines checked as `boards probe` does, the PWM pin's hardware channel, the
/// rig's `PlantIO`) and hands it to `visitor`; whatever happens, the outputs end in their safe state
/// (duty 0, PWM disabled, lines released) and the chip is closed.
func openBoardRig<Backend: LineBackend, PWMs: PWMChannelOpener, Visitor: BoardRigVisitor>(
    kind: RigKind, board: BoardDescription, backend: Backend, pwm: PWMs, motorSetPoint: Double?, _ visitor: Visitor
) throws(BoardRunError) -> Visitor.Result {
    guard let wiring = board.rig(kind), let pwmPin = wiring.pin(for: .pwm) else {
        throw .setup("board \(board.name) does not wire the \(kind.rawValue) rig: add a [rig \(kind.rawValue)] section to its board file (see edge-ctl boards show sim)")
    }
    guard let hardware = board.pwm, let channel = hardware.channel(forPin: pwmPin.pin) else {
        let channels = board.pwm.map { $0.channels.map { "channel \($0.channel) = pin \($0.pin)" }.joined(separator: ", ") } ?? ""
        throw .setup("board \(board.name): the \(kind.rawValue) rig's pwm pin \(pwmPin.pin) has no hardware PWM channel"
                     + (channels.isEmpty ? " (the board file has no [pwm] section)" : " (hardware PWM: \(channels))")
                     + "; wire the motor driver's PWM input to a hardware PWM pin and change the board file: software PWM is not used for a motor (a stalled loop could leave the pin high, full speed)")
    }
    let chip: Backend.Chip
    do throws(LineError) {
        chip = try backend.openChip(label: board.chipLabel)
    } catch {
        throw .chip(board: board.name, error)
    }
    defer { chip.close() }
    // The same check as `boards probe`: every header line exists on the chip.
    if let highest = board.headerPins.compactMap({ $0.line }).max(), highest >= chip.lineCount {
        throw .chip(board: board.name, .offsetOutOfRange(chip: chip.label, offset: UInt32(highest), lineCount: chip.lineCount))
    }

    var drive: HardwarePWMDrive<PWMs.Output>
    do throws(LineError) {
        drive = try HardwarePWMDrive(output: try pwm.open(hardware, channel: channel))
    } catch {
        throw .line(error)
    }
    let pins = PlantPins(wiring: wiring)
    let chipName = chip.name, pwmChannel = drive.output.name
    switch kind {
    case .pendulum:
        let io: PendulumIO<Backend.Chip, HardwarePWMDrive<PWMs.Output>>
        do throws(LineError) { io = try PendulumIO(chip: chip, pwm: drive, pins: pins) } catch {
            try? drive.disable()
            throw .line(error)
        }
        let rig = BoardRigIO(io: io, chipName: chipName, pwmChannel: pwmChannel,
                             home: { () throws(LineError) in try io.home(angle: Double.pi) },
                             counts: { (io.encoder.count, 0) },
                             disable: { () throws(LineError) in try io.motor.pwm.disable() }, setPoint: { _ in })
        defer { rig.shutDown() }
        return try visitor.visit(rig)
    case .motor:
        let io: MotorIO<Backend.Chip, HardwarePWMDrive<PWMs.Output>>
        do throws(LineError) { io = try MotorIO(chip: chip, pwm: drive, pins: pins) } catch {
            try? drive.disable()
            throw .line(error)
        }
        io.setPoint = motorSetPoint ?? 0
        let rig = BoardRigIO(io: io, chipName: chipName, pwmChannel: pwmChannel,
                             home: { () throws(LineError) in try io.home() },
                             counts: { (io.encoder.count, 0) },
                             disable: { () throws(LineError) in try io.motor.pwm.disable() },
                             setPoint: { io.setPoint = $0 })
        defer { rig.shutDown() }
        return try visitor.visit(rig)
    case .cartpole:
        let io: CartPoleIO<Backend.Chip, HardwarePWMDrive<PWMs.Output>>
        do throws(LineError) { io = try CartPoleIO(chip: chip, pwm: drive, pins: pins) } catch {
            try? drive.disable()
            throw .line(error)
        }
        let rig = BoardRigIO(io: io, chipName: chipName, pwmChannel: pwmChannel,
                             home: { () throws(LineError) in try io.home(cartPosition: 0, poleAngle: 0) },
                             counts: { (io.pole.count, io.cart.count) },
                             disable: { () throws(LineError) in try io.motor.pwm.disable() }, setPoint: { _ in })
        defer { rig.shutDown() }
        return try visitor.visit(rig)
    }
}

/// `runPolicyOnBoard` once the rig is open.
struct PolicyOnBoardRig<Task: SimPlant, let Obs: Int, let Act: Int>: BoardRigVisitor {
    let policy: GaussianPolicy<Obs, Act>
    let periodNs: Int64
    let steps: Int
    let board: String
    let options: BoardRunOptions
    let onStep: (BoardStep) -> Bool

    func visit<IO: PlantIO & EncoderCountReporting>(_ rig: BoardRigIO<IO>) throws(BoardRunError) -> BoardRunReport {
        let setup = BoardSession(board: board, chipName: rig.chipName, pwmChannel: rig.pwmChannel,
                                 periodNs: periodNs, steps: steps, options: options)
        return try setup.run(rig.io, policy: policy, task: Task.self, onStep: onStep, home: rig.home, counts: rig.counts)
    }
}

/// The part of a board run after the rig's I/O exists: homing at rest, the control session, the
/// safe state on the way out.
struct BoardSession {
    let board: String
    let chipName: String
    let pwmChannel: String
    let periodNs: Int64
    let steps: Int
    let options: BoardRunOptions

    func run<IO: PlantIO & EncoderCountReporting, Task: SimPlant, let Obs: Int, let Act: Int>(
        _ io: IO, policy: GaussianPolicy<Obs, Act>, task: Task.Type, onStep: (BoardStep) -> Bool,
        home: () throws(LineError) -> Void, counts: () -> (Int64, Int64)
    ) throws(BoardRunError) -> BoardRunReport {
        precondition(IO.observationSize == Obs && IO.actionSize == Act, "policy shapes differ from the rig's I/O")
        let clock = MonotonicClock()
        try homeAtRest(io, clock: clock, home: home, counts: counts)

        let loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: options.stopsOnSignals)
        let step = ControlStep(plant: io, limits: Task.safetyLimits(periodNs: periodNs), periodNs: periodNs)
        let makePolicy = { () -> GaussianPolicy<Obs, Act> in makeControlPolicy(observationBounds: Task.observationBounds) }
        let mailbox = PolicyMailbox(initial: policy, makeSlot: makePolicy)
        let session = ControlSession(loop: loop, step: step, mailbox: mailbox, makePolicy: makePolicy,
                                     explore: false, seed: options.seed)
        let observation = UnsafeBufferPointer(step.observation)
        let action = UnsafeBufferPointer(start: UnsafePointer(step.appliedAction), count: Act)
        var rewardSum = 0.0
        var index = 0
        let exit: LoopExit
        do throws(LineError) {
            exit = try session.run(steps: steps, pollEveryNs: sensorPollPeriodNs) { record in
                let reward = Task.reward(observation: observation.baseAddress!, action: action.baseAddress!)
                rewardSum += Double(reward)
                let goOn = onStep(BoardStep(index: index, timing: record.timing, interventions: record.interventions,
                                            observation: observation, action: action, reward: reward))
                index += 1
                return goOn
            }
        } catch {
            throw .line(error)
        }
        return BoardRunReport(board: board, rig: Task.kind, chipName: chipName, pwmChannel: pwmChannel,
                              periodNs: periodNs, steps: loop.steps, rewardSum: rewardSum,
                              control: ControlLoopReport(loop: loop, allocations: session.stepAllocations,
                                                         safety: step.safety.report),
                              exit: exit)
    }

    /// Homes the sensors, watches them for `options.settleNs` (polling every millisecond, as the loop
    /// does) and homes again: the plant must not move more than `restToleranceCounts` meanwhile, or
    /// the homed position would be wrong (a swinging pendulum is not at θ = π).
    func homeAtRest<IO: PlantIO>(_ io: IO, clock: MonotonicClock, home: () throws(LineError) -> Void,
                                 counts: () -> (Int64, Int64)) throws(BoardRunError) {
        var most: Int64 = 0
        do throws(LineError) {
            try home()
            guard options.settleNs > 0 else { return }
            most = try encoderMovement(io, clock: clock, durationNs: options.settleNs, counts: counts)
            if most <= options.restToleranceCounts { try home() }
        } catch {
            throw .line(error)
        }
        if most > options.restToleranceCounts {
            throw .setup(Self.notAtRest(IO.kind, counts: most, tolerance: options.restToleranceCounts,
                                        settleNs: options.settleNs))
        }
    }

    static func notAtRest(_ kind: RigKind, counts: Int64, tolerance: Int64, settleNs: Int64) -> String {
        let what = restRequirement(kind)
        return "the \(kind.rawValue) encoder moved \(counts) counts (more than \(tolerance)) in the "
            + "\(settleNs / 1_000_000) ms after homing: \(what); let it come to rest and start again"
    }
}

/// What "at rest" means for homing `kind`'s rig, for the messages that refuse to start.
func restRequirement(_ kind: RigKind) -> String {
    switch kind {
    case .pendulum: return "the pendulum must hang still (it is homed at theta = pi, hanging down)"
    case .motor: return "the motor must be at rest"
    case .cartpole: return "the cart must stand still at mid-rail with the pole hanging still"
    }
}

/// Watches the encoders for `durationNs` (polling every `sensorPollPeriodNs`, as the loop does) and
/// returns the largest movement from where they were at the start, in counts, over either encoder.
func encoderMovement<IO: PlantIO>(_ io: IO, clock: MonotonicClock, durationNs: Int64,
                                  counts: () -> (Int64, Int64)) throws(LineError) -> Int64 {
    var most: Int64 = 0
    let start = counts()
    let end = clock.nowNs + durationNs
    var t = clock.nowNs
    while t < end {
        t = min(t + sensorPollPeriodNs, end)
        _ = clock.sleep(untilNs: t)
        try io.poll()
        let now = counts()
        most = max(most, abs(now.0 - start.0), abs(now.1 - start.1))
    }
    return most
}
