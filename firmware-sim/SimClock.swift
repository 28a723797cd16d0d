/// The simulator's virtual CLOCK_MONOTONIC, in nanoseconds. Time moves only when a rig (or a test)
/// advances it, so runs are deterministic and as fast as the host allows.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class SimClock {
    /// Current virtual time.
    @exclusivity(unchecked) public private(set) var nowNs: Int64

    /// Starts at one second, so timestamps look like a monotonic clock (never 0).
    public init(startNs: Int64 = 1_000_000_000) {
        nowNs = startNs
    }

    /// Moves time forward to `timeNs`; earlier times are ignored (the clock never goes back).
    public func advance(to timeNs: Int64) {
        if timeNs > nowNs { nowNs = timeNs }
    }
}
