import CEdgeSys
import EdgeCore

/// The simulator's deterministic random numbers (fault injection, reset states): EdgeCore's
/// `RandomSource` bits, turned into the Double-precision draws the physics needs.
/// The same seed gives the same run on every machine.
public struct SimRandom {
    @usableFromInline var source: RandomSource

    public init(seed: UInt64) {
        source = RandomSource(seed: seed)
    }

    /// Uniform in [0, 1) with 53 random bits.
    @inlinable
    public mutating func unit() -> Double {
        Double(source.next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * unit()
    }

    /// Standard normal (Box-Muller; the second value of the pair is not kept).
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
