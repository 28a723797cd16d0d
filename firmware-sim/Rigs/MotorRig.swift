import CEdgeSys
import EdgeIO

/// A small hobby DC gearmotor's motor tracking a speed set-point, with a magnetic encoder on the
/// motor shaft. Constants (a 6 V, 25 mm class motor):
///     supply V = 6 V, armature R = 2 Ω, L = 1 mH (electrical time constant 0.5 ms),
///     torque constant Kt = back-EMF constant Ke = 0.008 N·m/A (V·s/rad),
///     rotor + reflected load inertia J = 1.5e-6 kg·m² (mechanical time constant J R / (Kt Ke) = 47 ms),
///     viscous friction b = 2e-6 N·m·s/rad, Coulomb friction 1.5e-3 N·m (smoothed by tanh(ω / 1 rad/s)),
///     encoder 48 counts per motor revolution (12 lines x4, as on common Hall encoders).
/// No-load speed ≈ 670 rad/s; `maxSpeed` = V / Ke = 750 rad/s normalizes speeds.
///
///     L di/dt = V a - R i - Ke ω          (a in [-1, 1]: the H-bridge command, V a the mean voltage)
///     J dω/dt = Kt i - b ω - Tc tanh(ω / 1 rad/s)
///     dφ/dt   = ω
/// integrated with RK4 over 100 fixed substeps of 100 µs per 10 ms control period (each substep is a
/// straight line of φ for the encoder edges). Reward (after the step):
///     -((ω - ω*) / maxSpeed)² - 0.01 a²
/// True state: [i, ω, φ, ω*]. Observation: [ω / maxSpeed, ω* / maxSpeed].
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class MotorRig: Rig {
    public static let kind = RigKind.motor
    public static let observationSize = 2
    public static let actionSize = 1
    public static let stateSize = 4

    public static let supplyVoltage = 6.0
    public static let resistance = 2.0
    public static let inductance = 1.0e-3
    public static let torqueConstant = 0.008
    public static let backEMFConstant = 0.008
    public static let inertia = 1.5e-6
    public static let viscousFriction = 2.0e-6
    public static let coulombFriction = 1.5e-3
    public static let coulombSmoothingSpeed = 1.0
    public static let maxSpeed = supplyVoltage / backEMFConstant
    public static let defaultCountsPerRevolution = 48
    public static let substeps = 100
    public static let actionCost = 0.01

    public let controlPeriodNs: Int64 = 10_000_000
    public let board: RigBoard
    public let countsPerRevolution: Int
    @exclusivity(unchecked) public private(set) var stepEndNs: Int64
    @exclusivity(unchecked) public private(set) var lastReward = 0.0
    @exclusivity(unchecked) public private(set) var current = 0.0
    @exclusivity(unchecked) public private(set) var speed = 0.0
    @exclusivity(unchecked) public private(set) var angle = 0.0
    /// The speed to track (rad/s), drawn at `reset(seed:)` or set by the caller.
    @exclusivity(unchecked) public var setPoint = 0.0
    /// Command applied during the current or last step.
    @exclusivity(unchecked) public private(set) var command = 0.0

    @exclusivity(unchecked) var directAction = 0.0
    @exclusivity(unchecked) var stepStartNs: Int64 = 0
    @exclusivity(unchecked) var substepsDone = 0
    @exclusivity(unchecked) var inStep = false

    public init(options: RigOptions = RigOptions(), countsPerRevolution: Int = MotorRig.defaultCountsPerRevolution) {
        board = RigBoard(options: options)
        self.countsPerRevolution = countsPerRevolution
        board.addEncoder(SimEncoderTrack(a: SimBoardPins.encoderA, b: SimBoardPins.encoderB,
                                         countsPerUnit: Double(countsPerRevolution) / (2 * Double.pi)))
        stepEndNs = board.clock.nowNs + controlPeriodNs
        reset(current: 0, speed: 0, angle: 0, setPoint: 0)
    }

    /// At rest, with a set-point uniform in ±0.8 maxSpeed.
    public func reset(seed: UInt64) {
        var random = SimRandom(seed: seed)
        reset(current: 0, speed: 0, angle: 0, setPoint: random.uniform(-0.8, 0.8) * Self.maxSpeed)
    }

    public func reset(state: UnsafeBufferPointer<Double>) {
        reset(current: state[0], speed: state[1], angle: state[2], setPoint: state[3])
    }

    public func reset(current: Double, speed: Double, angle: Double, setPoint: Double) {
        self.current = current
        self.speed = speed
        self.angle = angle
        self.setPoint = setPoint
        command = 0
        lastReward = 0
        inStep = false
        board.clearTransients()
        board.placeEncoder(0, at: angle)
        stepEndNs = board.clock.nowNs + controlPeriodNs
    }

    public func setAction(_ action: UnsafeBufferPointer<Double>) {
        directAction = action[0]
    }

    public func beginStep() {
        stepStartNs = board.clock.nowNs
        stepEndNs = stepStartNs + controlPeriodNs
        board.beginStep(atNs: stepStartNs)
        let raw = board.mode == .ideal ? directAction : board.actuatorCommand()
        command = raw.isFinite ? min(max(raw, -1), 1) : 0
        substepsDone = 0
        inStep = true
    }

    public func advance(toNs timeNs: Int64) {
        let target = min(timeNs, stepEndNs)
        while true {
            let substepEnd = substepEndNs(substepsDone)
            board.emit(upTo: min(target, substepEnd))
            if target <= substepEnd && substepsDone > 0 || substepsDone == Self.substeps { break }
            integrateSubstep()
        }
        board.advanceClock(to: target)
    }

    public func endStep() {
        if !inStep { beginStep() }
        advance(toNs: stepEndNs)
        let error = (speed - setPoint) / Self.maxSpeed
        lastReward = -(error * error) - Self.actionCost * command * command
        inStep = false
    }

    public func trueState(into state: UnsafeMutableBufferPointer<Double>) {
        state[0] = current
        state[1] = speed
        state[2] = angle
        state[3] = setPoint
    }

    public func trueObservation(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(speed / Self.maxSpeed)
        observation[1] = Float(setPoint / Self.maxSpeed)
    }

    /// The encoder count at the current angle.
    public var shaftCount: Int64 { Int64((angle * board.encoders[0].countsPerUnit).rounded(.down)) }

    // MARK: Physics

    func substepEndNs(_ done: Int) -> Int64 {
        stepStartNs + controlPeriodNs * Int64(done) / Int64(Self.substeps)
    }

    /// (di/dt, dω/dt) at current `i` and speed `w`.
    @inline(__always)
    func derivatives(_ i: Double, _ w: Double, voltage: Double) -> (Double, Double) {
        let di = (voltage - Self.resistance * i - Self.backEMFConstant * w) / Self.inductance
        let friction = Self.viscousFriction * w + Self.coulombFriction * tanh(w / Self.coulombSmoothingSpeed)
        let dw = (Self.torqueConstant * i - friction) / Self.inertia
        return (di, dw)
    }

    /// One RK4 substep; the encoder then sweeps the substep's angle change linearly.
    func integrateSubstep() {
        let h = Double(controlPeriodNs) * 1e-9 / Double(Self.substeps)
        let voltage = Self.supplyVoltage * command
        let i0 = current, w0 = speed
        let (a1, b1) = derivatives(i0, w0, voltage: voltage)
        let (a2, b2) = derivatives(i0 + 0.5 * h * a1, w0 + 0.5 * h * b1, voltage: voltage)
        let (a3, b3) = derivatives(i0 + 0.5 * h * a2, w0 + 0.5 * h * b2, voltage: voltage)
        let (a4, b4) = derivatives(i0 + h * a3, w0 + h * b3, voltage: voltage)
        current = i0 + h / 6 * (a1 + 2 * a2 + 2 * a3 + a4)
        speed = w0 + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
        // φ is the integral of ω: RK4's weights applied to the stage speeds.
        let w2 = w0 + 0.5 * h * b1, w3 = w0 + 0.5 * h * b2, w4 = w0 + h * b3
        let newAngle = angle + h / 6 * (w0 + 2 * w2 + 2 * w3 + w4)
        let start = substepEndNs(substepsDone)
        substepsDone += 1
        if board.mode == .board {
            board.encoders[0].move(from: angle, to: newAngle, startNs: start, endNs: substepEndNs(substepsDone))
        }
        angle = newAngle
    }
}
