import EdgeIO

/// A plant that tells the safety layer the count of the encoder its actuator moves, so that a shaft
/// that does not move under a commanded drive can be caught (`SafetyFault.encoderStuck`).
public protocol EncoderCountReporting: AnyObject {
    /// The count of the encoder on the driven axis.
    var driveEncoderCount: Int64 { get }
}

extension PendulumIO: EncoderCountReporting {
    /// The shaft encoder: the motor drives the shaft.
    public var driveEncoderCount: Int64 { encoder.count }
}

extension MotorIO: EncoderCountReporting {
    /// The motor shaft's encoder.
    public var driveEncoderCount: Int64 { encoder.count }
}

extension CartPoleIO: EncoderCountReporting {
    /// The cart encoder: the motor drives the cart (the pole may rest while the cart moves).
    public var driveEncoderCount: Int64 { cart.count }
}
