import CEdgeSys

/// A seeded pseudo-random generator: xoshiro256** (Blackman and Vigna, 2018) seeded through
/// splitmix64, so every seed gives a well-mixed state. Value type: copying it forks the stream.
/// Not cryptographic. Same seed, same `next`/`nextUniform`/`nextInt` numbers on every platform
/// (`nextGaussian` goes through libm, whose last bits may differ between platforms).
public struct RandomSource {
    @usableFromInline var s0, s1, s2, s3: UInt64
    @usableFromInline var spareGaussian: Float = 0
    @usableFromInline var hasSpare = false

    public init(seed: UInt64) {
        var x = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(&x); s1 = splitmix(&x); s2 = splitmix(&x); s3 = splitmix(&x)
    }

    /// The generator's whole state (four words of xoshiro256** plus the cached Gaussian), so a
    /// checkpoint can resume the exact stream.
    public var state: [UInt64] {
        [s0, s1, s2, s3, UInt64(spareGaussian.bitPattern), hasSpare ? 1 : 0]
    }

    /// Restores a generator saved with `state`; nil if `state` is not six words or is all zero.
    public init?(state: [UInt64]) {
        guard state.count == 6, state[0] | state[1] | state[2] | state[3] != 0 else { return nil }
        s0 = state[0]; s1 = state[1]; s2 = state[2]; s3 = state[3]
        spareGaussian = Float(bitPattern: UInt32(truncatingIfNeeded: state[4]))
        hasSpare = state[5] != 0
    }

    /// The next 64 random bits.
    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits.
    @inlinable
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// Uniform in [low, high).
    @inlinable
    public mutating func nextUniform(_ low: Float, _ high: Float) -> Float {
        let v = low + (high - low) * nextUniform()
        return v < high ? v : high.nextDown  // low + (high − low)(1 − 2^-24) can round up to high
    }

    /// Uniform integer in 0..<n (n > 0), by Lemire's multiply-shift: the high word of a 64x64-bit
    /// product (bias at most n / 2^64).
    @inlinable
    public mutating func nextInt(below n: Int) -> Int {
        precondition(n > 0, "nextInt(below:) needs a positive bound")
        return Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }

    /// Standard normal by the Box-Muller transform (pairs; the second value is kept for the next call).
    @inlinable
    public mutating func nextGaussian() -> Float {
        if hasSpare { hasSpare = false; return spareGaussian }
        let u1 = 1 - nextUniform()  // (0, 1]: log stays finite
        let u2 = nextUniform()
        let r = (-2 * logf(u1)).squareRoot()
        let angle = 2 * Float.pi * u2
        spareGaussian = r * sinf(angle)
        hasSpare = true
        return r * cosf(angle)
    }
}
