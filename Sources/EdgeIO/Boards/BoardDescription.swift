/// A board as its `boards/NAME.board` file describes it: which GPIO chip carries the header, which
/// header pin is which chip line, where hardware PWM is, the CPU to tune builds for, and how each rig
/// is wired. Produced by `BoardFileParser`, which checks every cross-reference, so code that holds a
/// `BoardDescription` can trust that pins exist, lines are in range and no pin has two jobs in a rig.
public struct BoardDescription: Equatable, Sendable {
    /// Short name, equal to the file name without `.board` (e.g. `rpi4`).
    public var name: String
    /// One human-readable line (e.g. "Raspberry Pi 4 Model B (BCM2711)").
    public var description: String
    /// The core to tune builds for (`cortex-a53`, `cortex-a72`, `cortex-a76`, or `generic`).
    public var cpu: String
    /// The label the kernel gives the header's GPIO chip. Chips are opened by label, never by
    /// `/dev/gpiochipN`, because the number changes between kernels (Pi 5: gpiochip4, then 0, ...).
    public var chipLabel: String
    /// Number of lines the chip exposes; every line offset in the file is below it.
    public var chipLines: Int
    /// Every header pin, sorted by pin number (1...headerPinCount, each exactly once).
    public var headerPins: [HeaderPin]
    /// The hardware PWM controller, when the board has one.
    public var pwm: HardwarePWM?
    /// Rig wirings in file order (at most one per kind).
    public var rigs: [RigWiring]

    /// Creates a description; `BoardFileParser` is the checked way to get one.
    public init(name: String, description: String, cpu: String, chipLabel: String, chipLines: Int,
                headerPins: [HeaderPin], pwm: HardwarePWM?, rigs: [RigWiring]) {
        self.name = name
        self.description = description
        self.cpu = cpu
        self.chipLabel = chipLabel
        self.chipLines = chipLines
        self.headerPins = headerPins
        self.pwm = pwm
        self.rigs = rigs
    }

    /// The header pin with this physical number, or nil.
    public func headerPin(_ number: Int) -> HeaderPin? {
        headerPins.first { $0.number == number }
    }

    /// The wiring of one rig, or nil when the file does not wire it.
    public func rig(_ kind: RigKind) -> RigWiring? {
        rigs.first { $0.kind == kind }
    }
}

/// What a header pin carries.
public enum HeaderPinFunction: Equatable, Sendable {
    /// A GPIO line of the board's chip, at this offset.
    case gpio(line: Int)
    case power3V3
    case power5V
    case ground

    /// How the board file and the pin table spell it (`gpio 17`, `3v3`, `5v`, `ground`).
    public var spelling: String {
        switch self {
        case .gpio(let line): return "gpio \(line)"
        case .power3V3: return "3v3"
        case .power5V: return "5v"
        case .ground: return "ground"
        }
    }
}

/// One physical pin of the header.
public struct HeaderPin: Equatable, Sendable {
    /// Physical pin number (1 is the square pad).
    public var number: Int
    public var function: HeaderPinFunction
    /// Free text from the file, such as the pin's alternate function ("SDA1"); may be empty.
    public var note: String

    public init(number: Int, function: HeaderPinFunction, note: String) {
        self.number = number
        self.function = function
        self.note = note
    }

    /// The chip line offset when this pin is a GPIO, else nil.
    public var line: Int? {
        if case .gpio(let line) = function { return line }
        return nil
    }
}

/// A hardware PWM controller exposed through `/sys/class/pwm`.
public struct HardwarePWM: Equatable, Sendable {
    /// The controller's device name; `/sys/class/pwm/pwmchipN/device` links to it, which finds the
    /// right `pwmchipN` whatever number the kernel gave it (e.g. `fe20c000.pwm`).
    public var controller: String
    /// How to enable it (e.g. `dtoverlay=pwm-2chan in /boot/firmware/config.txt`); may be empty.
    public var setup: String
    /// Channel to header pin, sorted by channel.
    public var channels: [PWMChannel]

    public init(controller: String, setup: String, channels: [PWMChannel]) {
        self.controller = controller
        self.setup = setup
        self.channels = channels
    }

    /// The hardware channel that drives this header pin, or nil (software PWM then).
    public func channel(forPin pin: Int) -> Int? {
        channels.first { $0.pin == pin }?.channel
    }
}

/// One PWM channel and the header pin it comes out on.
public struct PWMChannel: Equatable, Sendable {
    public var channel: Int
    public var pin: Int

    public init(channel: Int, pin: Int) {
        self.channel = channel
        self.pin = pin
    }
}

/// The rigs edge-ctl knows how to wire.
public enum RigKind: String, CaseIterable, Equatable, Sendable {
    /// A motor-driven pendulum with a quadrature encoder on its shaft.
    case pendulum
    /// A DC motor with a quadrature encoder (speed or position control).
    case motor
    /// A motor-driven cart on a rail carrying a free pole, with two encoders and end stops.
    case cartpole

    /// The roles a wiring of this rig must give, in the order tables list them.
    public var roles: [RigRole] {
        switch self {
        case .pendulum, .motor:
            return [.encoderA, .encoderB, .pwm, .direction, .estop]
        case .cartpole:
            return [.poleEncoderA, .poleEncoderB, .cartEncoderA, .cartEncoderB, .pwm, .direction, .estop,
                    .limitLeft, .limitRight]
        }
    }
}

/// The job of one pin in a rig; the raw value is the key in the board file.
public enum RigRole: String, CaseIterable, Equatable, Sendable {
    case encoderA = "encoder a"
    case encoderB = "encoder b"
    case poleEncoderA = "pole encoder a"
    case poleEncoderB = "pole encoder b"
    case cartEncoderA = "cart encoder a"
    case cartEncoderB = "cart encoder b"
    /// Motor speed: hardware PWM where the pin has a channel, software PWM otherwise.
    case pwm
    /// Motor direction for a PWM + DIR driver.
    case direction
    /// Emergency stop input; the control loop applies the safe action while it is active.
    case estop
    case limitLeft = "limit left"
    case limitRight = "limit right"

    /// True for roles the program drives (PWM, direction); false for inputs it reads.
    public var isOutput: Bool { self == .pwm || self == .direction }
}

/// Internal resistor on an input pin.
public enum PinBias: String, Equatable, Sendable {
    case none
    case pullUp = "pull-up"
    case pullDown = "pull-down"
}

/// One role of a rig on one header pin.
public struct RigPin: Equatable, Sendable {
    public var role: RigRole
    /// Physical header pin.
    public var pin: Int
    /// Chip line offset of that pin.
    public var line: Int
    /// The role is active when the line is low (e.g. a normally-open switch to ground).
    public var activeLow: Bool
    public var bias: PinBias

    public init(role: RigRole, pin: Int, line: Int, activeLow: Bool, bias: PinBias) {
        self.role = role
        self.pin = pin
        self.line = line
        self.activeLow = activeLow
        self.bias = bias
    }
}

/// How one rig is wired to the header.
public struct RigWiring: Equatable, Sendable {
    public var kind: RigKind
    /// One line saying what is connected (motor driver, encoder, switches).
    public var description: String
    /// One entry per role of `kind.roles`, in that order.
    public var pins: [RigPin]

    public init(kind: RigKind, description: String, pins: [RigPin]) {
        self.kind = kind
        self.description = description
        self.pins = pins
    }

    /// The pin that plays this role, or nil when the rig has no such role.
    public func pin(for role: RigRole) -> RigPin? {
        pins.first { $0.role == role }
    }
}
