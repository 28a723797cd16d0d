import EdgeIO

/// A simulated /sys/class/pwm channel: period, duty cycle and enable with the kernel's checks
/// (EINVAL for a duty cycle above the period or a zero period). Rigs read `dutyFraction`.
public final class SimPWMOutput: PWMOutput {
    public let name: String
    public private(set) var periodNs: Int64 = 0
    public private(set) var dutyNs: Int64 = 0
    public private(set) var isEnabled = false
    /// Number of successful writes (a rig or test can check that unchanged duties are not rewritten).
    public private(set) var writes = 0

    public init(name: String = "pwmchip0/pwm0") {
        self.name = name
    }

    public func setPeriodNs(_ periodNs: Int64) throws(LineError) {
        guard periodNs > 0, periodNs >= dutyNs else {
            throw .system(chip: name, offset: nil, errno: LineErrno.invalidArgument, call: "write period")
        }
        self.periodNs = periodNs
        writes += 1
    }

    public func setDutyCycleNs(_ dutyNs: Int64) throws(LineError) {
        guard dutyNs >= 0, dutyNs <= periodNs else {
            throw .system(chip: name, offset: nil, errno: LineErrno.invalidArgument, call: "write duty_cycle")
        }
        self.dutyNs = dutyNs
        writes += 1
    }

    public func setEnabled(_ enabled: Bool) throws(LineError) {
        guard !enabled || periodNs > 0 else {
            throw .system(chip: name, offset: nil, errno: LineErrno.invalidArgument, call: "write enable")
        }
        isEnabled = enabled
        writes += 1
    }

    /// Fraction of the time the output is high: duty / period while enabled, else 0.
    public var dutyFraction: Double {
        isEnabled && periodNs > 0 ? Double(dutyNs) / Double(periodNs) : 0
    }
}
