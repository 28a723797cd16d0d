/// A motor driver with a speed input (PWM) and a direction input (DIR), as on the common
/// PWM + DIR H-bridge boards. Commands are in [-1, 1]: the sign picks the direction line, the
/// magnitude the duty cycle. NaN and infinities become 0. On a direction change the duty goes to 0
/// before the direction line flips, so the bridge never drives full speed the wrong way.
public struct HBridge<PWM: DutyCycleOutput, Request: LineRequest> {
    public var pwm: PWM
    public let directionRequest: Request
    public let directionOffset: UInt32
    /// The command last applied, after sanitizing and clamping.
    public private(set) var command: Double = 0
    @usableFromInline var reverse = false

    /// Uses `directionOffset` of an output request (low = forward) and stops the motor.
    public init(pwm: PWM, directionRequest: Request, directionOffset: UInt32) throws(LineError) {
        self.pwm = pwm
        self.directionRequest = directionRequest
        self.directionOffset = directionOffset
        try self.pwm.setDuty(0)
        try directionRequest.setValue(directionOffset, false)
    }

    /// Requests `directionOffset` on `chip` as an output, low, then as `init(pwm:directionRequest:...)`.
    public init<Chip: LineChip>(pwm: PWM, chip: Chip, directionOffset: UInt32,
                                consumer: String = "edge-ctl motor") throws(LineError) where Chip.Request == Request {
        let request = try chip.requestOutputs([directionOffset], defaults: [false], flags: [], consumer: consumer)
        try self.init(pwm: pwm, directionRequest: request, directionOffset: directionOffset)
    }

    /// Drives the motor at `command` in [-1, 1] (negative: direction line high).
    public mutating func set(_ command: Double) throws(LineError) {
        let clamped = command.isFinite ? min(max(command, -1), 1) : 0
        let wantReverse = clamped < 0
        if wantReverse != reverse {
            try pwm.setDuty(0)
            try directionRequest.setValue(directionOffset, wantReverse)
            reverse = wantReverse
        }
        try pwm.setDuty(clamped < 0 ? -clamped : clamped)
        self.command = clamped
    }

    /// Duty 0 (coast): the safe action.
    public mutating func stop() throws(LineError) {
        try set(0)
    }
}
