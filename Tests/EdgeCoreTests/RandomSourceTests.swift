import EdgeCore
import Testing

/// Sample mean and the central moments 2 and 4, accumulated in Double.
func moments(_ xs: [Float]) -> (mean: Double, variance: Double, fourth: Double) {
    let n = Double(xs.count)
    let mean = xs.reduce(0.0) { $0 + Double($1) } / n
    var m2 = 0.0, m4 = 0.0
    for x in xs { let d = Double(x) - mean; m2 += d * d; m4 += d * d * d * d }
    return (mean, m2 / n, m4 / n)
}

@Suite("RandomSource")
struct RandomSourceTests {
    static let draws = 1 << 20

    @Test("the same seed gives the same sequence and different seeds give different ones")
    func determinism() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42)
        #expect((0..<1000).allSatisfy { _ in a.next() == b.next() })
        let streams = [0, 1, 2, 42, UInt64.max].map { seed -> [UInt64] in
            var r = RandomSource(seed: seed)
            return (0..<100).map { _ in r.next() }
        }
        for i in streams.indices {
            for j in streams.indices where i < j {
                #expect(zip(streams[i], streams[j]).filter { $0 == $1 }.isEmpty, "seeds \(i) and \(j) share values")
            }
        }
    }

    @Test("outputs match the Python xoshiro256** + splitmix64 reference for seeds 0, 42 and UInt64.max")
    func matchesReference() {
        for (seed, expected) in CoreReferenceFixture.xoshiroOutputs {
            var r = RandomSource(seed: seed)
            #expect((0..<expected.count).map { _ in r.next() } == expected, "seed \(seed)")
        }
    }

    @Test("copying a generator forks the stream, including a pending Gaussian")
    func copyForks() {
        var a = RandomSource(seed: 5)
        _ = a.nextGaussian()  // leaves the pair's second value pending
        var b = a
        #expect(a.nextGaussian() == b.nextGaussian())
        #expect((0..<100).allSatisfy { _ in a.next() == b.next() })
    }

    @Test("nextUniform lies in [0, 1) on a 2^-24 grid with mean 1/2 and variance 1/12 within 5 standard errors")
    func uniform() {
        var r = RandomSource(seed: 7)
        let xs = (0..<Self.draws).map { _ in r.nextUniform() }
        #expect(xs.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(xs.allSatisfy { ($0 * 0x1p24).rounded() == $0 * 0x1p24 }, "24 random bits")
        let n = Double(Self.draws), m = moments(xs)
        // Standard errors: of the mean √(σ²/n), σ² = 1/12; of the variance √((μ4 − σ⁴)/n), μ4 = 1/80.
        #expect(abs(m.mean - 0.5) <= 5 * (1.0 / 12 / n).squareRoot())
        #expect(abs(m.variance - 1.0 / 12) <= 5 * ((1.0 / 80 - 1.0 / 144) / n).squareRoot())
    }

    @Test("nextUniform(low, high) never returns high (seed 8280086 draws the largest uniform, 1 - 2^-24, first)")
    func uniformRangeExcludesHigh() {
        // 1 + (1 − 2^-24) lies halfway between 2 − 2^-23 and 2, and rounds to even: 2.
        var check = RandomSource(seed: 8_280_086)
        #expect(check.nextUniform() == 1 - 0x1p-24, "the seed this test relies on")
        for (low, high) in [(Float(1), Float(2)), (0.5, 1.5), (-1, 1), (0, 3), (-3, -1)] {
            var r = RandomSource(seed: 8_280_086)
            let v = r.nextUniform(low, high)
            #expect(v >= low && v < high, "nextUniform(\(low), \(high)) returned \(v)")
        }
    }

    @Test("nextGaussian has mean 0, variance 1 and fourth moment 3 within 5 standard errors, and |z| <= 5.78")
    func gaussian() {
        var r = RandomSource(seed: 8)
        let xs = (0..<Self.draws).map { _ in r.nextGaussian() }
        let n = Double(Self.draws), m = moments(xs)
        // Standard errors for N(0, 1): mean 1/√n; variance √(2/n); fourth moment √((E z⁸ − 9)/n) = √(96/n).
        #expect(abs(m.mean) <= 5 / n.squareRoot())
        #expect(abs(m.variance - 1) <= 5 * (2 / n).squareRoot())
        #expect(abs(m.fourth - 3) <= 5 * (96 / n).squareRoot())
        // Box–Muller with 24-bit uniforms cannot go past √(−2 ln 2^-24) ≈ 5.768.
        #expect(xs.allSatisfy { $0.isFinite && abs($0) <= 5.78 })
        // Each pair's two values are uncorrelated: |correlation| within 5/√(n/2).
        var sum = 0.0
        for i in stride(from: 0, to: xs.count, by: 2) { sum += Double(xs[i]) * Double(xs[i + 1]) }
        #expect(abs(sum / (n / 2)) <= 5 / (n / 2).squareRoot())
    }

    @Test("nextInt(below:) stays in 0..<n and hits each of 7 values within 5 standard deviations of n/7")
    func integers() {
        var r = RandomSource(seed: 9)
        for n in [1, 2, 3, 7, 10, 1000, 1 << 31, 1 << 32] {
            #expect((0..<10_000).allSatisfy { _ in (0..<n).contains(r.nextInt(below: n)) }, "n = \(n)")
        }
        let draws = 70_000
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<draws { counts[r.nextInt(below: 7)] += 1 }
        let expected = Double(draws) / 7, sd = (Double(draws) * (1.0 / 7) * (6.0 / 7)).squareRoot()
        #expect(counts.allSatisfy { abs(Double($0) - expected) <= 5 * sd }, "counts \(counts)")
        var big = RandomSource(seed: 10)
        let halves = (0..<20_000).filter { _ in big.nextInt(below: 1 << 32) >= 1 << 31 }.count
        #expect(abs(Double(halves) - 10_000) <= 5 * 70.72, "upper half of 0..<2^32 drawn half the time")
    }

    @Test("nextInt(below:) covers the whole range for n above 2^32")
    func largeIntegers() {
        // The probability that 200 uniform draws all miss the upper half is 2^-200.
        var r = RandomSource(seed: 11)
        let n = 1 << 40
        let draws = (0..<200).map { _ in r.nextInt(below: n) }
        #expect(draws.allSatisfy { (0..<n).contains($0) })
        #expect(draws.contains { $0 >= n / 2 }, "largest of 200 draws below 2^40: \(draws.max()!)")
    }
}
