import CEdgeSys
import EdgeIO
import EdgeLearning
import FirmwareSim

/// A simulated plant as the learner sees it: a FirmwareSim rig on the simulated board, read through
/// the same sensor code (`PlantIO`) that runs on hardware, plus the task: its reward computed from the
/// sensor observation (what a real rig can compute) and its episode length.
///
/// `step` returns the reward from the rig's TRUE state as well; the learner uses it only for evaluation.
public protocol SimPlant: AnyObject {
    /// The sizes the agent for this plant is specialized for.
    static var kind: RigKind { get }
    static var observationSize: Int { get }
    static var actionSize: Int { get }
    /// Per-dimension scale that maps observations to about [-1, 1] for the networks.
    static var observationBounds: [Float] { get }
    /// Steps per episode.
    static var episodeSteps: Int { get }
    /// Control period in nanoseconds of plant time.
    var controlPeriodNs: Int64 { get }

    /// A fresh rig on its own simulated board, in `mode` (`.board`: edges and sensors; `.ideal`: physics).
    init(mode: RigMode) throws(LineError)
    /// Random start state (seeded), sensors homed to it.
    func reset(seed: UInt64) throws(LineError)
    /// The observation from the sensors (`observationSize` floats).
    func observe(into observation: UnsafeMutablePointer<Float>)
    /// Applies `action` (each in [-1, 1]) for one control period, polling the sensors during it.
    /// Returns the reward of the step computed from the rig's true state (for evaluation only).
    func step(_ action: UnsafePointer<Float>) throws(LineError) -> Float
    /// What the sensor layer reports.
    var health: PlantHealth { get }
    /// The task's reward from sensor observations: r(s, a) with s the observation before the step.
    static func reward(observation: UnsafePointer<Float>, action: UnsafePointer<Float>) -> Float
    /// What the safety layer enforces on this rig when its control loop runs at `periodNs`.
    static func safetyLimits(periodNs: Int64) -> SafetyLimits
}

extension SimPlant {
    /// Actions in [-1, 1], a slew limit that lets a full swing from -1 to 1 take two control periods,
    /// the default sensor checks.
    public static func safetyLimits(periodNs: Int64) -> SafetyLimits {
        SafetyLimits(actionCount: actionSize, low: -1, high: 1, maxRatePerSecond: Float(1e9 / Double(periodNs)))
    }
}

/// A task reward written once per plant, usable one sample at a time (the control loop) and over
/// lanes (imagination with `--known-reward`).
public struct KnownReward<Plant: SimPlant>: RewardFunction {
    public init() {}
    public func reward(obs: UnsafePointer<Float>, action: UnsafePointer<Float>, lanes: Int,
                       into reward: UnsafeMutablePointer<Float>) {
        let n = Plant.observationSize, m = Plant.actionSize
        withUnsafeTemporaryAllocation(of: Float.self, capacity: n + m) { scratch in
            let o = scratch.baseAddress!, a = o + n
            for l in 0..<lanes {
                for d in 0..<n { o[d] = obs[d * lanes + l] }
                for d in 0..<m { a[d] = action[d * lanes + l] }
                reward[l] = Plant.reward(observation: o, action: a)
            }
        }
    }
}

/// The parts every simulated plant shares: a FirmwareSim rig read and driven through its `PlantIO`.
public protocol RigBackedPlant: SimPlant {
    associatedtype RigType: Rig
    associatedtype IO: PlantIO & EncoderCountReporting
    var rig: RigType { get }
    var io: IO { get }
}

extension RigBackedPlant {
    public var controlPeriodNs: Int64 { rig.controlPeriodNs }
    public var health: PlantHealth { io.health }

    public func observe(into observation: UnsafeMutablePointer<Float>) {
        io.observe(into: UnsafeMutableBufferPointer(start: observation, count: Self.observationSize))
    }

    public func step(_ action: UnsafePointer<Float>) throws(LineError) -> Float {
        try io.act(UnsafeBufferPointer(start: action, count: Self.actionSize))
        try rig.step(pollEveryNs: sensorPollPeriodNs) { () throws(LineError) in try io.poll() }
        return Float(rig.lastReward)
    }
}

/// Polls the sensors this often within a control step: a line's kernel queue holds 16 events, and the
/// pendulum's encoder fills it in about 12 ms at top speed.
let sensorPollPeriodNs: Int64 = 1_000_000

// MARK: - Pendulum

/// Gymnasium Pendulum-v1 on the simulated board: observation [cos θ, sin θ, θ̇] from the shaft encoder,
/// action a ∈ [-1, 1] = torque / 2 N·m, reward −(θ² + 0.1 θ̇² + 0.001 u²), 200 steps of 50 ms.
public final class PendulumPlant: RigBackedPlant {
    public static var kind: RigKind { .pendulum }
    public static var observationSize: Int { 3 }
    public static var actionSize: Int { 1 }
    public static var observationBounds: [Float] { [1, 1, 8] }
    public static var episodeSteps: Int { 200 }
    public let rig: PendulumRig
    public let io: PendulumIO<SimChip, HardwarePWMDrive<SimPWMOutput>>

    public init(mode: RigMode) throws(LineError) {
        rig = PendulumRig(options: RigOptions(mode: mode))
        io = try PendulumIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                            pins: SimBoardPins.plantPins(for: .pendulum))
    }

    public func reset(seed: UInt64) throws(LineError) {
        rig.reset(seed: seed)
        try io.home(angle: rig.theta)
    }

    /// Pendulum-v1's actuator is an ideal torque source (no slew limit: the task has none, and at 20 Hz
    /// a torque motor follows any step). A pendulum held at an angle by a steady torque does not move,
    /// so an unchanged encoder count under drive is normal here: only the one-line-stuck pattern
    /// reveals a failed encoder.
    public static func safetyLimits(periodNs: Int64) -> SafetyLimits {
        var limits = SafetyLimits(actionCount: actionSize, low: -1, high: 1)
        limits.stuckAfterNs = nil
        return limits
    }

    public static func reward(observation: UnsafePointer<Float>, action: UnsafePointer<Float>) -> Float {
        let theta = atan2f(observation[1], observation[0])
        let torque = 2 * min(max(action[0], -1), 1)
        return -(theta * theta + 0.1 * observation[2] * observation[2] + 0.001 * torque * torque)
    }
}

// MARK: - Motor

/// DC motor speed tracking: observation [ω/ωmax, ω*/ωmax] from the shaft encoder and the task's
/// set-point (a new random set-point each episode), action = H-bridge duty, reward
/// −((ω − ω*)/ωmax)² − 0.01 a², 200 steps of 10 ms.
public final class MotorPlant: RigBackedPlant {
    public static var kind: RigKind { .motor }
    public static var observationSize: Int { 2 }
    public static var actionSize: Int { 1 }
    public static var observationBounds: [Float] { [1, 1] }
    public static var episodeSteps: Int { 200 }
    public let rig: MotorRig
    public let io: MotorIO<SimChip, HardwarePWMDrive<SimPWMOutput>>

    public init(mode: RigMode) throws(LineError) {
        rig = MotorRig(options: RigOptions(mode: mode))
        io = try MotorIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                         pins: SimBoardPins.plantPins(for: .motor), maxSpeed: MotorRig.maxSpeed)
    }

    public func reset(seed: UInt64) throws(LineError) {
        rig.reset(seed: seed)
        io.setPoint = rig.setPoint
        try io.home()
    }

    /// The default limits, plus the sudden-silence check: the motor cannot stop dead. Braking is at
    /// most a = 33,000 rad/s² (full reverse drive at full speed, (V + Ke ωmax) / R · Kt / J, plus
    /// 1,000 for friction); stopping from ω takes ω² / (2a) of angle, less than one count (c = 48 / 2π
    /// counts per radian) only below sqrt(2a / c) ≈ 93 rad/s. So the window before a silent one ends
    /// slower than that and has at most c T (sqrt(2a / c) + a T / 2) + 1 edges (20.7 for the 10 ms
    /// window); a quarter more for margin: 26 (fault-free runs of 250,000 steps saw at most 11). A dead
    /// encoder above about 340 rad/s (26 edges per 10 ms), including where its level reads alias
    /// (4 counts per 1 ms poll at 524 rad/s), is thus caught in its first window.
    public static func safetyLimits(periodNs: Int64) -> SafetyLimits {
        var limits = SafetyLimits(actionCount: actionSize, low: -1, high: 1, maxRatePerSecond: Float(1e9 / Double(periodNs)))
        let windowSeconds = Double(max(1, limits.lostEdgeWindowNs / periodNs) * periodNs) * 1e-9
        let braking = (MotorRig.supplyVoltage + MotorRig.backEMFConstant * MotorRig.maxSpeed) / MotorRig.resistance
            * MotorRig.torqueConstant / MotorRig.inertia + 1_000
        let countsPerRadian = Double(MotorRig.defaultCountsPerRevolution) / (2 * Double.pi)
        let edges = countsPerRadian * windowSeconds * ((2 * braking / countsPerRadian).squareRoot()
                                                       + braking * windowSeconds / 2) + 1
        limits.silenceAfterEdges = Int((1.25 * edges).rounded(.up))
        return limits
    }

    public static func reward(observation: UnsafePointer<Float>, action: UnsafePointer<Float>) -> Float {
        let error = observation[0] - observation[1]
        let a = min(max(action[0], -1), 1)
        return -(error * error) - Float(MotorRig.actionCost) * a * a
    }
}

// MARK: - Cart-pole

/// PILCO cart-pole swing-up: observation [x, ẋ, θ̇, sin θ, cos θ] from the cart and pole encoders,
/// action = force / 10 N, reward −(1 − exp(−d²/(2·0.25²))) with d the pole tip's distance from upright
/// over x = 0; 40 steps of 100 ms (PILCO's 4 s horizon).
public final class CartPolePlant: RigBackedPlant {
    public static var kind: RigKind { .cartpole }
    public static var observationSize: Int { 5 }
    public static var actionSize: Int { 1 }
    public static var observationBounds: [Float] { [1.2, 4, 12, 1, 1] }
    public static var episodeSteps: Int { 40 }
    public let rig: CartPoleRig
    public let io: CartPoleIO<SimChip, HardwarePWMDrive<SimPWMOutput>>

    public init(mode: RigMode) throws(LineError) {
        rig = CartPoleRig(options: RigOptions(mode: mode))
        io = try CartPoleIO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                            pins: SimBoardPins.plantPins(for: .cartpole))
    }

    public func reset(seed: UInt64) throws(LineError) {
        rig.reset(seed: seed)
        try io.home(cartPosition: rig.x, poleAngle: rig.theta)
    }

    public static func reward(observation: UnsafePointer<Float>, action: UnsafePointer<Float>) -> Float {
        let l = Float(CartPoleRig.poleLength), width = Float(CartPoleRig.costWidth)
        let dx = observation[0] + l * observation[3]
        let dy = l + l * observation[4]
        return -(1 - expf(-(dx * dx + dy * dy) / (2 * width * width)))
    }
}
