import CEdgeSys

/// One rig seen through its sensors and actuators, the same on libgpiod and on FirmwareSim:
/// observations come from decoders and switches, actions go out through an H-bridge. The
/// observation layout equals the matching FirmwareSim rig's `trueObservation`, so a policy trained
/// on either runs on both. All per-step calls are allocation-free.
public protocol PlantIO: AnyObject {
    static var kind: RigKind { get }
    static var observationSize: Int { get }
    static var actionSize: Int { get }

    /// Takes in pending sensor events. Call it at least every couple of milliseconds of plant time
    /// (a line must not collect 16 edges between polls), and right before `observe`.
    func poll() throws(LineError)
    /// Writes the observation estimated from the sensors at the time of the last poll.
    func observe(into observation: UnsafeMutableBufferPointer<Float>)
    /// Drives the actuators with `action` (each in [-1, 1]). While the e-stop is active, or a limit
    /// switch is pressed and the action pushes further that way, the safe action (0) goes out instead.
    func act(_ action: UnsafeBufferPointer<Float>) throws(LineError)
    /// The safe action: motor off.
    func stop() throws(LineError)
    /// Sensor faults and safety inputs since the last homing.
    var health: PlantHealth { get }
    /// Gives every line back.
    func release()
}

/// What the sensor layer saw go wrong, and the safety inputs.
public struct PlantHealth: Equatable, Sendable {
    /// The main encoder (pendulum shaft, motor shaft, cart-pole pole).
    public var encoder = QuadratureFaults()
    /// The cart's linear encoder (cart-pole only).
    public var cartEncoder = QuadratureFaults()
    public var eStopActive = false
    /// Accepted e-stop presses and releases.
    public var eStopChanges = 0
    public var limitLeftActive = false
    public var limitRightActive = false

    public init() {}

    /// No fault counted and no safety input active.
    public var isHealthy: Bool {
        !encoder.any && !cartEncoder.any && !eStopActive && !limitLeftActive && !limitRightActive
    }
}

/// The lines a rig uses and how to request them: from a board file's `RigWiring`, or set directly.
public struct PlantPins: Equatable, Sendable {
    public var encoderA: UInt32
    public var encoderB: UInt32
    public var encoderFlags: LineFlags
    public var cartEncoderA: UInt32?
    public var cartEncoderB: UInt32?
    public var cartEncoderFlags: LineFlags
    public var direction: UInt32
    public var eStop: UInt32
    public var eStopFlags: LineFlags
    public var limitLeft: UInt32?
    public var limitRight: UInt32?
    public var limitFlags: LineFlags

    public init(encoderA: UInt32, encoderB: UInt32, direction: UInt32, eStop: UInt32,
                cartEncoderA: UInt32? = nil, cartEncoderB: UInt32? = nil,
                limitLeft: UInt32? = nil, limitRight: UInt32? = nil) {
        self.encoderA = encoderA
        self.encoderB = encoderB
        encoderFlags = []
        self.cartEncoderA = cartEncoderA
        self.cartEncoderB = cartEncoderB
        cartEncoderFlags = []
        self.direction = direction
        self.eStop = eStop
        eStopFlags = [.activeLow, .biasPullUp]
        self.limitLeft = limitLeft
        self.limitRight = limitRight
        limitFlags = [.activeLow, .biasPullUp]
    }

    /// The pins of a board file's rig section (the shaft encoder of a cart-pole is its pole encoder).
    /// The `pwm` role is not here: the caller builds the duty-cycle output from the board's PWM section.
    public init(wiring: RigWiring) {
        func line(_ role: RigRole) -> UInt32? { wiring.pin(for: role).map { UInt32($0.line) } }
        func flags(_ role: RigRole) -> LineFlags {
            guard let pin = wiring.pin(for: role) else { return [] }
            var flags: LineFlags = pin.activeLow ? [.activeLow] : []
            switch pin.bias {
            case .none: break
            case .pullUp: flags.insert(.biasPullUp)
            case .pullDown: flags.insert(.biasPullDown)
            }
            return flags
        }
        let cart = wiring.kind == .cartpole
        self.init(encoderA: line(cart ? .poleEncoderA : .encoderA) ?? 0,
                  encoderB: line(cart ? .poleEncoderB : .encoderB) ?? 0,
                  direction: line(.direction) ?? 0, eStop: line(.estop) ?? 0,
                  cartEncoderA: line(.cartEncoderA), cartEncoderB: line(.cartEncoderB),
                  limitLeft: line(.limitLeft), limitRight: line(.limitRight))
        encoderFlags = flags(cart ? .poleEncoderA : .encoderA)
        cartEncoderFlags = flags(.cartEncoderA)
        eStopFlags = flags(.estop)
        limitFlags = flags(.limitLeft)
    }
}

/// A rig with one encoder on the driven shaft, an e-stop and an H-bridge (the pendulum and the motor):
/// polling, acting, stopping, health and release are the same for both, written once here.
public protocol ShaftEncoderIO: PlantIO {
    associatedtype Chip: LineChip
    associatedtype PWM: DutyCycleOutput
    var encoder: QuadratureDecoder<Chip> { get }
    var eStop: DebouncedInput<Chip> { get }
    var motor: HBridge<PWM, Chip.Request> { get set }
}

extension ShaftEncoderIO {
    public func poll() throws(LineError) {
        try encoder.poll()
        try eStop.poll()
    }

    public func act(_ action: UnsafeBufferPointer<Float>) throws(LineError) {
        try motor.set(eStop.isActive ? 0 : Double(action[0]))
    }

    public func stop() throws(LineError) { try motor.stop() }

    public var health: PlantHealth {
        var health = PlantHealth()
        health.encoder = encoder.faults
        health.eStopActive = eStop.isActive
        health.eStopChanges = eStop.changes
        return health
    }

    public func release() {
        encoder.release()
        eStop.release()
        motor.directionRequest.release()
    }
}

/// The pendulum: shaft encoder, e-stop, H-bridge. Observation [cos θ, sin θ, θ̇] (θ = 0 upright),
/// action a: torque command (the rig maps it to ±max torque).
public final class PendulumIO<Chip: LineChip, PWM: DutyCycleOutput>: ShaftEncoderIO {
    public static var kind: RigKind { .pendulum }
    public static var observationSize: Int { 3 }
    public static var actionSize: Int { 1 }

    public let chip: Chip
    public let encoder: QuadratureDecoder<Chip>
    public let eStop: DebouncedInput<Chip>
    public var motor: HBridge<PWM, Chip.Request>

    /// Requests the lines. Call `home(angle:)` before the first observation.
    public init(chip: Chip, pwm: PWM, pins: PlantPins, countsPerRevolution: Int = 2048) throws(LineError) {
        self.chip = chip
        var settings = QuadratureSettings.rotary(countsPerRevolution: countsPerRevolution)
        settings.flags = pins.encoderFlags
        encoder = try QuadratureDecoder(chip: chip, a: pins.encoderA, b: pins.encoderB, settings: settings)
        eStop = try DebouncedInput(chip: chip, offset: pins.eStop, flags: pins.eStopFlags, consumer: "edge-ctl estop")
        motor = try HBridge(pwm: pwm, chip: chip, directionOffset: pins.direction)
    }

    /// Declares the present shaft angle (radians, 0 upright; a real rig hangs at rest at π).
    public func home(angle: Double) throws(LineError) {
        try encoder.reset(count: Int64((angle * encoder.settings.countsPerUnit).rounded(.down)))
        try eStop.reset()
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        var sine = 0.0, cosine = 0.0
        edge_sincos(encoder.position, &sine, &cosine)
        observation[0] = Float(cosine)
        observation[1] = Float(sine)
        observation[2] = Float(encoder.velocity(nowNs: chip.nowNs()))
    }

}

/// The DC motor speed rig: shaft encoder, e-stop, H-bridge. Observation [ω / maxSpeed,
/// ω* / maxSpeed]; the set-point ω* is the task's, set by the caller.
public final class MotorIO<Chip: LineChip, PWM: DutyCycleOutput>: ShaftEncoderIO {
    public static var kind: RigKind { .motor }
    public static var observationSize: Int { 2 }
    public static var actionSize: Int { 1 }

    public let chip: Chip
    public let encoder: QuadratureDecoder<Chip>
    public let eStop: DebouncedInput<Chip>
    public var motor: HBridge<PWM, Chip.Request>
    /// Speed that normalizes observations (rad/s; FirmwareSim's `MotorRig.maxSpeed` for the sim rig).
    public let maxSpeed: Double
    /// Speed to track (rad/s).
    public var setPoint = 0.0

    public init(chip: Chip, pwm: PWM, pins: PlantPins, countsPerRevolution: Int = 48,
                maxSpeed: Double = 750) throws(LineError) {
        self.chip = chip
        self.maxSpeed = maxSpeed
        var settings = QuadratureSettings.rotary(countsPerRevolution: countsPerRevolution)
        settings.flags = pins.encoderFlags
        settings.velocityWindowNs = 5_000_000
        encoder = try QuadratureDecoder(chip: chip, a: pins.encoderA, b: pins.encoderB, settings: settings)
        eStop = try DebouncedInput(chip: chip, offset: pins.eStop, flags: pins.eStopFlags, consumer: "edge-ctl estop")
        motor = try HBridge(pwm: pwm, chip: chip, directionOffset: pins.direction)
    }

    /// Zeroes the shaft angle (speed control needs no absolute position) and re-reads the e-stop.
    public func home() throws(LineError) {
        try encoder.reset(count: 0)
        try eStop.reset()
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        observation[0] = Float(encoder.velocity(nowNs: chip.nowNs()) / maxSpeed)
        observation[1] = Float(setPoint / maxSpeed)
    }

}

/// The cart-pole: pole and cart encoders, end switches, e-stop, H-bridge on the cart motor.
/// Observation [x, ẋ, θ̇, sin θ, cos θ] (θ = 0 hanging, π upright), action a: force command.
public final class CartPoleIO<Chip: LineChip, PWM: DutyCycleOutput>: PlantIO {
    public static var kind: RigKind { .cartpole }
    public static var observationSize: Int { 5 }
    public static var actionSize: Int { 1 }

    public let chip: Chip
    public let pole: QuadratureDecoder<Chip>
    public let cart: QuadratureDecoder<Chip>
    public let limitLeft: DebouncedInput<Chip>
    public let limitRight: DebouncedInput<Chip>
    public let eStop: DebouncedInput<Chip>
    public var motor: HBridge<PWM, Chip.Request>

    /// `pins` must name the cart encoder and both limit switches (a cart-pole wiring does).
    public init(chip: Chip, pwm: PWM, pins: PlantPins, poleCountsPerRevolution: Int = 2048,
                cartCountsPerMeter: Double = 1000) throws(LineError) {
        self.chip = chip
        var poleSettings = QuadratureSettings.rotary(countsPerRevolution: poleCountsPerRevolution)
        poleSettings.flags = pins.encoderFlags
        var cartSettings = QuadratureSettings(countsPerUnit: cartCountsPerMeter)
        cartSettings.flags = pins.cartEncoderFlags
        pole = try QuadratureDecoder(chip: chip, a: pins.encoderA, b: pins.encoderB, settings: poleSettings,
                                     consumer: "edge-ctl pole encoder")
        cart = try QuadratureDecoder(chip: chip, a: pins.cartEncoderA ?? 0, b: pins.cartEncoderB ?? 0,
                                     settings: cartSettings, consumer: "edge-ctl cart encoder")
        limitLeft = try DebouncedInput(chip: chip, offset: pins.limitLeft ?? 0, flags: pins.limitFlags,
                                       debounceNs: 1_000_000, consumer: "edge-ctl limit left")
        limitRight = try DebouncedInput(chip: chip, offset: pins.limitRight ?? 0, flags: pins.limitFlags,
                                        debounceNs: 1_000_000, consumer: "edge-ctl limit right")
        eStop = try DebouncedInput(chip: chip, offset: pins.eStop, flags: pins.eStopFlags, consumer: "edge-ctl estop")
        motor = try HBridge(pwm: pwm, chip: chip, directionOffset: pins.direction)
    }

    /// Declares the present cart position (m, 0 mid-rail) and pole angle (rad, 0 hanging).
    public func home(cartPosition: Double, poleAngle: Double) throws(LineError) {
        try pole.reset(count: Int64((poleAngle * pole.settings.countsPerUnit).rounded(.down)))
        try cart.reset(count: Int64((cartPosition * cart.settings.countsPerUnit).rounded(.down)))
        try limitLeft.reset()
        try limitRight.reset()
        try eStop.reset()
    }

    public func poll() throws(LineError) {
        try pole.poll()
        try cart.poll()
        try limitLeft.poll()
        try limitRight.poll()
        try eStop.poll()
    }

    public func observe(into observation: UnsafeMutableBufferPointer<Float>) {
        let now = chip.nowNs()
        var sine = 0.0, cosine = 0.0
        edge_sincos(pole.position, &sine, &cosine)
        observation[0] = Float(cart.position)
        observation[1] = Float(cart.velocity(nowNs: now))
        observation[2] = Float(pole.velocity(nowNs: now))
        observation[3] = Float(sine)
        observation[4] = Float(cosine)
    }

    public func act(_ action: UnsafeBufferPointer<Float>) throws(LineError) {
        var command = Double(action[0])
        if eStop.isActive || (limitLeft.isActive && command < 0) || (limitRight.isActive && command > 0) {
            command = 0
        }
        try motor.set(command)
    }

    public func stop() throws(LineError) { try motor.stop() }

    public var health: PlantHealth {
        var health = PlantHealth()
        health.encoder = pole.faults
        health.cartEncoder = cart.faults
        health.eStopActive = eStop.isActive
        health.eStopChanges = eStop.changes
        health.limitLeftActive = limitLeft.isActive
        health.limitRightActive = limitRight.isActive
        return health
    }

    public func release() {
        pole.release()
        cart.release()
        limitLeft.release()
        limitRight.release()
        eStop.release()
        motor.directionRequest.release()
    }
}
