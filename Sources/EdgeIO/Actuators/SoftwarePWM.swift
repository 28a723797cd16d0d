/// PWM by toggling a GPIO output line from the control loop: the fallback where a pin has no
/// hardware PWM. Its timing is only as good as the calls to `service`: call it at every deadline it
/// returns (or at least every poll); resolution is the call spacing over `periodNs`.
public struct SoftwarePWM<Request: LineRequest>: DutyCycleOutput {
    public let request: Request
    public let offset: UInt32
    public let periodNs: Int64
    public private(set) var duty: Double = 0

    @usableFromInline var periodStartNs: Int64
    @usableFromInline var isHigh = false

    /// Drives `offset` of an output `request` (requested low). Cycles start at `startNs`.
    public init(request: Request, offset: UInt32, periodNs: Int64 = 20_000_000, startNs: Int64) throws(LineError) {
        self.request = request
        self.offset = offset
        self.periodNs = periodNs
        periodStartNs = startNs
        try request.setValue(offset, false)
    }

    /// Takes effect from the next `service` call.
    public mutating func setDuty(_ fraction: Double) throws(LineError) {
        duty = sanitizedDuty(fraction)
    }

    /// Sets the line to what the waveform needs at `nowNs` and returns when it must change next.
    public mutating func service(nowNs: Int64) throws(LineError) -> Int64 {
        if nowNs >= periodStartNs + periodNs {
            periodStartNs += (nowNs - periodStartNs) / periodNs * periodNs
        }
        let highNs = Int64((duty * Double(periodNs)).rounded())
        let high = nowNs - periodStartNs < highNs
        if high != isHigh {
            try request.setValue(offset, high)
            isHigh = high
        }
        return high ? periodStartNs + highNs : periodStartNs + periodNs
    }
}
