import EdgeCore

/// Durations in nanoseconds counted in fixed, log-spaced buckets, so that recording never allocates
/// and percentiles come out of any number of samples in O(buckets).
///
/// Buckets (HdrHistogram-style): one for [0, 64 ns), then 8 per power of two from 64 ns up to
/// 2^27 ns ≈ 134 ms (each at most 12.5% wide), then one for everything longer. A percentile reads
/// the upper edge of the bucket it falls in, clamped to the exact min and max, so it overstates by
/// at most 12.5% and never understates. `min`, `max`, `count` and the mean are exact.
public final class LatencyHistogram {
    /// Sub-buckets per power of two, as a bit count (8 buckets).
    static let subBits = 3
    /// The first power of two with its own buckets: 2^6 = 64 ns.
    static let firstExponent = 6
    /// Values from 2^27 ns (134 ms) on share the last bucket.
    static let endExponent = 27
    /// Underflow bucket, 8 per octave, overflow bucket.
    public static let bucketCount = 1 + (endExponent - firstExponent) << subBits + 1

    let buckets: UnsafeMutablePointer<UInt64>
    /// Samples recorded.
    public private(set) var count = 0
    /// Smallest and largest sample (0 before the first).
    public private(set) var minNs: Int64 = 0
    public private(set) var maxNs: Int64 = 0
    /// Sum of all samples, for the mean.
    public private(set) var totalNs: Int64 = 0

    /// Allocates the buckets (the only allocation this type makes).
    public init() {
        buckets = .allocate(capacity: Self.bucketCount)
        buckets.initialize(repeating: 0, count: Self.bucketCount)
    }

    deinit { buckets.deallocate() }

    /// Adds one sample (negative values count as 0). O(1), no allocation.
    public func record(_ ns: Int64) {
        let value = max(ns, 0)
        buckets[Self.bucketIndex(value)] &+= 1
        if count == 0 || value < minNs { minNs = value }
        if value > maxNs { maxNs = value }
        count += 1
        totalNs &+= value
    }

    /// Forgets every sample.
    public func reset() {
        buckets.update(repeating: 0, count: Self.bucketCount)
        count = 0
        minNs = 0
        maxNs = 0
        totalNs = 0
    }

    static func bucketIndex(_ value: Int64) -> Int {
        if value < Int64(1) << firstExponent { return 0 }
        let exponent = 63 - value.leadingZeroBitCount
        if exponent >= endExponent { return bucketCount - 1 }
        let sub = Int(value >> (exponent - subBits)) & ((1 << subBits) - 1)
        return 1 + (exponent - firstExponent) << subBits + sub
    }

    /// The largest value bucket `index` holds (the overflow bucket: Int64.max).
    static func upperEdge(_ index: Int) -> Int64 {
        if index == 0 { return (Int64(1) << firstExponent) - 1 }
        if index == bucketCount - 1 { return Int64.max }
        let octave = (index - 1) >> subBits, sub = Int64((index - 1) & ((1 << subBits) - 1))
        let shift = firstExponent + octave - subBits
        return ((Int64(1) << subBits) + sub + 1) << shift - 1
    }

    /// The value below or at which a fraction `q` (0...1) of the samples lie: the upper edge of the
    /// bucket holding the ⌈q·count⌉-th smallest sample, clamped to [min, max]. 0 when empty.
    public func percentile(_ q: Double) -> Int64 {
        guard count > 0 else { return 0 }
        if q >= 1 { return maxNs }
        let rank = max(1, UInt64((q * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for index in 0..<Self.bucketCount {
            seen += buckets[index]
            if seen >= rank { return min(max(Self.upperEdge(index), minNs), maxNs) }
        }
        return maxNs
    }

    /// Mean of the samples in nanoseconds (0 when empty).
    public var meanNs: Double { count > 0 ? Double(totalNs) / Double(count) : 0 }

    /// "p50 1.2 µs, p99 3.4 µs, p99.9 8 µs, max 20.1 µs".
    public var percentileSummary: String {
        "p50 \(formatDuration(percentile(0.5))), p99 \(formatDuration(percentile(0.99))), "
            + "p99.9 \(formatDuration(percentile(0.999))), max \(formatDuration(maxNs))"
    }
}

/// A duration for people: "850 ns", "12.3 µs", "1.5 ms", "2.03 s" (three significant digits).
public func formatDuration(_ ns: Int64) -> String {
    let value = Double(ns)
    if value < 1e3 { return "\(ns) ns" }
    if value < 1e6 { return formatFloat(value / 1e3, digits: 3) + " µs" }
    if value < 1e9 { return formatFloat(value / 1e6, digits: 3) + " ms" }
    return formatFloat(value / 1e9, digits: 3) + " s"
}
