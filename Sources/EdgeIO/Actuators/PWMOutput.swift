/// A hardware PWM channel as Linux exposes it under /sys/class/pwm/pwmchipN/pwmM: a period, a duty
/// cycle (both in nanoseconds, duty <= period) and an enable switch. `SysfsPWMOutput` writes the
/// real files; FirmwareSim's `SimPWMOutput` simulates one. Errors reuse `LineError`, naming the
/// channel (e.g. "pwmchip0/pwm0") in place of a chip.
public protocol PWMOutput {
    /// "pwmchipN/pwmM".
    var name: String { get }
    /// Sets the period. The kernel refuses (EINVAL) a period shorter than the current duty cycle.
    func setPeriodNs(_ periodNs: Int64) throws(LineError)
    /// Sets the high time per period. The kernel refuses (EINVAL) a duty cycle longer than the period.
    func setDutyCycleNs(_ dutyNs: Int64) throws(LineError)
    /// Starts or stops the output.
    func setEnabled(_ enabled: Bool) throws(LineError)
}

/// Anything that takes a duty cycle in [0, 1]: hardware PWM or software PWM on a line.
/// The H-bridge drives its speed input through this.
public protocol DutyCycleOutput {
    /// Sets the fraction of each period the output is high. NaN and infinities count as 0
    /// (a broken command must never reach the motor); values are clamped to [0, 1].
    mutating func setDuty(_ fraction: Double) throws(LineError)
    /// The duty cycle last applied, after clamping and rounding to the output's resolution.
    var duty: Double { get }
}

/// Clamps a requested duty to [0, 1], with NaN and infinities mapped to 0. Shared by every
/// `DutyCycleOutput` so they agree on what a bad command does.
@inlinable
public func sanitizedDuty(_ fraction: Double) -> Double {
    // Both computed, then selected: a select costs less than the branches `isFinite` compiled to.
    let clamped = min(max(fraction, 0), 1)
    return fraction.magnitude < .infinity ? clamped : 0
}
