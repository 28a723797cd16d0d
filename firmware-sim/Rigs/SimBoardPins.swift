import EdgeIO

/// How the rigs are wired on the simulated board (chip "edge-sim"), as `boards/sim.board` describes
/// it: offsets are BCM GPIO numbers on a Raspberry Pi style header (header pin in each comment).
/// All rigs share the motor drive, the shaft encoder and the e-stop. A FirmwareSim test parses
/// boards/sim.board and checks it against these constants.
public enum SimBoardPins {
    public static let chipLabel = "edge-sim"
    public static let lineCount = 54
    /// Shaft encoder (pendulum shaft, motor shaft, cart-pole pole): A on BCM 17 (pin 11), B on BCM 27 (pin 13).
    public static let encoderA: UInt32 = 17
    public static let encoderB: UInt32 = 27
    /// Cart linear encoder (cart-pole): A on BCM 5 (pin 29), B on BCM 6 (pin 31).
    public static let cartEncoderA: UInt32 = 5
    public static let cartEncoderB: UInt32 = 6
    /// Motor speed: hardware PWM pwmchip0 channel 0, which is BCM 18 (pin 12).
    public static let pwmLine: UInt32 = 18
    public static let pwmChip = 0
    public static let pwmChannel = 0
    /// Motor direction (high = reverse): BCM 23 (pin 16).
    public static let direction: UInt32 = 23
    /// E-stop, active-low with pull-up (pressed = low): BCM 24 (pin 18).
    public static let eStop: UInt32 = 24
    /// Cart-pole end-of-rail switches, active-low with pull-up: left BCM 20 (pin 38), right BCM 21 (pin 40).
    public static let limitLeft: UInt32 = 20
    public static let limitRight: UInt32 = 21
}

extension SimBoardPins {
    /// The pins of `kind` on the simulated board, with the flags boards/sim.board gives them
    /// (encoders pull-up; e-stop and limit switches active-low with pull-up).
    public static func plantPins(for kind: RigKind) -> PlantPins {
        let cart = kind == .cartpole
        var pins = PlantPins(encoderA: encoderA, encoderB: encoderB, direction: direction, eStop: eStop,
                             cartEncoderA: cart ? cartEncoderA : nil, cartEncoderB: cart ? cartEncoderB : nil,
                             limitLeft: cart ? limitLeft : nil, limitRight: cart ? limitRight : nil)
        pins.encoderFlags = .biasPullUp
        pins.cartEncoderFlags = cart ? .biasPullUp : []
        pins.limitFlags = cart ? [.activeLow, .biasPullUp] : []
        return pins
    }
}
