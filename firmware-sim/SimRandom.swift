import CEdgeSys

/// SplitMix64: the simulator's deterministic random numbers (fault injection, reset states).
/// Small, fast and seedable; the same seed gives the same run on every machine.
public struct SimRandom {
    @usableFromInline var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    /// Next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Standard normal (Box-Muller; one of the pair is discarded to keep the state a single word).
    public mutating func normal() -> Double {
        let u1 = 1 - unit()  // (0, 1]: log stays finite
        let u2 = unit()
        return sqrt(-2 * log(u1)) * cos(2 * Double.pi * u2)
    }

    /// Waiting time of a Poisson process with `ratePerSecond`, in nanoseconds (Int64.max if the rate is 0).
    public mutating func exponentialNs(ratePerSecond: Double) -> Int64 {
        guard ratePerSecond > 0 else { return Int64.max }
        let seconds = -log(1 - unit()) / ratePerSecond
        return seconds >= 9e9 ? Int64.max : Int64(seconds * 1e9)
    }
}
