import CEdgeSys
import EdgeIO

/// A motor-driven pendulum whose physics are exactly Gymnasium's Pendulum-v1, with a quadrature
/// encoder on the shaft.
///
/// Pendulum-v1 (θ = 0 upright, g = 10, m = 1, l = 1, dt = 0.05 s, |u| <= 2, |θ̇| <= 8):
///     reward     = -(wrap(θ)² + 0.1 θ̇² + 0.001 u²)            (wrap to [-π, π), from the state before)
///     newθ̇       = clip(θ̇ + (3g / (2l) sin θ + 3 / (m l²) u) dt, -8, 8)
///     newθ       = θ + newθ̇ dt
/// Within a step the shaft turns at the constant speed newθ̇, so encoder edge times are exact.
/// Action a in [-1, 1] is the H-bridge command: u = 2a (duty × direction in `.board` mode).
/// True state: [θ, θ̇] (θ not wrapped). Observation: [cos θ, sin θ, θ̇] as Pendulum-v1's.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class PendulumRig: Rig {
    public static let kind = RigKind.pendulum
    public static let observationSize = 3
    public static let actionSize = 1
    public static let stateSize = 2

    public static let gravity = 10.0
    public static let mass = 1.0
    public static let length = 1.0
    public static let dt = 0.05
    public static let maxTorque = 2.0
    public static let maxSpeed = 8.0
    /// Default encoder: 512 lines, x4.
    public static let defaultCountsPerRevolution = 2048

    public let controlPeriodNs: Int64 = 50_000_000
    public let board: RigBoard
    public let countsPerRevolution: Int
    @exclusivity(unchecked) public private(set) var stepEndNs: Int64
    @exclusivity(unchecked) public private(set) var lastReward = 0.0
    /// Shaft angle (not wrapped) and speed.
    @exclusivity(unchecked) public private(set) var theta = 0.0
    @exclusivity(unchecked) public private(set) var thetaDot = 0.0
    /// Torque applied during the current or last step.
    @exclusivity(unchecked) public private(set) var torque = 0.0

    @exclusivity(unchecked) var directAction = 0.0
    @exclusivity(unchecked) var nextTheta = 0.0
    @exclusivity(unchecked) var nextThetaDot = 0.0
    @exclusivity(unchecked) var pendingReward = 0.0
    @exclusivity(unchecked) var inStep = false

    public init(options: RigOptions = RigOptions(), countsPerRevolution: Int = PendulumRig.defaultCountsPerRevolution) {
        board = RigBoard(options: options)
        self.countsPerRevolution = countsPerRevolution
        board.addEncoder(SimEncoderTrack(a: SimBoardPins.encoderA, b: SimBoardPins.encoderB,
                                         countsPerUnit: Double(countsPerRevolution) / (2 * Double.pi)))
        stepEndNs = board.clock.nowNs + controlPeriodNs
        reset(theta: Double.pi, thetaDot: 0)
    }

    /// Pendulum-v1's reset: θ uniform in [-π, π), θ̇ uniform in [-1, 1).
    public func reset(seed: UInt64) {
        var random = SimRandom(seed: seed)
        let theta = random.uniform(-Double.pi, Double.pi)
        reset(theta: theta, thetaDot: random.uniform(-1, 1))
    }

    public func reset(state: UnsafeBufferPointer<Double>) {
        reset(theta: state[0], thetaDot: state[1])
    }

    /// Starts at angle `theta` (0 upright) and speed `thetaDot`; the encoder lines show the cell of `theta`.
    public func reset(theta: Double, thetaDot: Double) {
        self.theta = theta
        self.thetaDot = thetaDot
        torque = 0
        lastReward = 0
        inStep = false
        board.clearTransients()
        board.placeEncoder(0, at: theta)
        stepEndNs = board.clock.nowNs + controlPeriodNs
    }

    /// The encoder count at the current angle (what a homed decoder should read): floor(θ × counts / 2π).
    public var shaftCount: Int64 { Int64((theta * board.encoders[0].countsPerUnit).rounded(.down)) }

    public func setAction(_ action: UnsafeBufferPointer<Double>) {
        directAction = action[0]
    }

    public func beginStep() {
        let start = board.clock.nowNs
        stepEndNs = start + controlPeriodNs
        board.beginStep(atNs: start)
        let command = board.mode == .ideal ? directAction : board.actuatorCommand()
        let u = min(max(Self.maxTorque * command, -Self.maxTorque), Self.maxTorque)
        torque = u
        let g = Self.gravity, m = Self.mass, l = Self.length, dt = Self.dt
        let wrapped = wrapAngle(theta)
        pendingReward = -(wrapped * wrapped + 0.1 * thetaDot * thetaDot + 0.001 * (u * u))
        var newThetaDot = thetaDot + (3 * g / (2 * l) * sin(theta) + 3.0 / (m * l * l) * u) * dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        nextThetaDot = newThetaDot
        nextTheta = theta + newThetaDot * dt
        board.encoders[0].move(from: theta, to: nextTheta, startNs: start, endNs: stepEndNs)
        inStep = true
    }

    public func advance(toNs timeNs: Int64) {
        let t = min(timeNs, stepEndNs)
        board.emit(upTo: t)
        board.advanceClock(to: t)
    }

    public func endStep() {
        if !inStep { beginStep() }
        advance(toNs: stepEndNs)
        theta = nextTheta
        thetaDot = nextThetaDot
        lastReward = pendingReward
        inStep = false
    }

    public func trueState(into state: UnsafeMutableBufferPointer<Double>) {
        state[0] = theta
        state[1] = thetaDot
    }

    public func trueObservation(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(cos(theta))
        observation[1] = Float(sin(theta))
        observation[2] = Float(thetaDot)
    }
}

/// Pendulum-v1's angle_normalize: ((x + π) mod 2π) - π with a floored modulo, as numpy computes it.
@inlinable
public func wrapAngle(_ x: Double) -> Double {
    let period = 2 * Double.pi
    var r = (x + Double.pi).truncatingRemainder(dividingBy: period)
    if r != 0 && r < 0 { r += period }
    return r - Double.pi
}
