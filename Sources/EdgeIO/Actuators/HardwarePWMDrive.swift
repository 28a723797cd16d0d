/// A duty-cycle output on a hardware PWM channel (sysfs on a board, `SimPWMOutput` in the simulator).
/// Writes the duty cycle only when its rounded value changes, so a control loop can call `setDuty`
/// every step at the cost of one compare.
public struct HardwarePWMDrive<Output: PWMOutput>: DutyCycleOutput {
    public let output: Output
    public let periodNs: Int64
    public private(set) var dutyNs: Int64 = 0

    /// Sets duty 0, the period, and enables the channel (in an order the kernel accepts from any state).
    public init(output: Output, periodNs: Int64 = 50_000) throws(LineError) {
        self.output = output
        self.periodNs = periodNs
        try output.setDutyCycleNs(0)
        try output.setPeriodNs(periodNs)
        try output.setEnabled(true)
    }

    public var duty: Double { Double(dutyNs) / Double(periodNs) }

    public mutating func setDuty(_ fraction: Double) throws(LineError) {
        let ns = Int64((sanitizedDuty(fraction) * Double(periodNs)).rounded())
        guard ns != dutyNs else { return }
        try output.setDutyCycleNs(ns)
        dutyNs = ns
    }

    /// Duty 0 and disabled: the pin idles low.
    public mutating func disable() throws(LineError) {
        try setDuty(0)
        try output.setEnabled(false)
    }
}
