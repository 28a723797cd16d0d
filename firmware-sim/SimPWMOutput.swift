import EdgeIO

/// A simulated /sys/class/pwm channel: period, duty cycle and enable with the kernel's checks
/// (EINVAL for a duty cycle above the period or a zero period). Rigs read `dutyFraction`.
///
/// `setDutyCycleNs` is inlinable (with the state it writes): the control step writes a duty every
/// step, and as a call it cost a retain and a release of the output around it.
public final class SimPWMOutput: PWMOutput {
    public let name: String
    public var periodNs: Int64 { period }
    public var dutyNs: Int64 { duty }
    public private(set) var isEnabled = false
    /// Number of successful writes (a rig or test can check that unchanged duties are not rewritten).
    public var writes: Int { writeCount }

    @usableFromInline var period: Int64 = 0
    @usableFromInline var duty: Int64 = 0
    @usableFromInline var writeCount = 0

    public init(name: String = "pwmchip0/pwm0") {
        self.name = name
    }

    public func setPeriodNs(_ periodNs: Int64) throws(LineError) {
        guard periodNs > 0, periodNs >= duty else { throw invalid("write period") }
        period = periodNs
        writeCount += 1
    }

    @inlinable
    public func setDutyCycleNs(_ dutyNs: Int64) throws(LineError) {
        guard dutyNs >= 0, dutyNs <= period else { throw invalid("write duty_cycle") }
        duty = dutyNs
        writeCount += 1
    }

    public func setEnabled(_ enabled: Bool) throws(LineError) {
        guard !enabled || period > 0 else { throw invalid("write enable") }
        isEnabled = enabled
        writeCount += 1
    }

    /// EINVAL from the write `call`, built out of line.
    @usableFromInline @inline(never)
    func invalid(_ call: String) -> LineError {
        .system(chip: name, offset: nil, errno: LineErrno.invalidArgument, call: call)
    }

    /// Fraction of the time the output is high: duty / period while enabled, else 0.
    public var dutyFraction: Double {
        isEnabled && period > 0 ? Double(duty) / Double(period) : 0
    }
}
