import EdgeCore
import EdgeLearning
import Testing

@Suite("Transition buffer")
struct TransitionBufferTests {
    /// Row r holds obs (r, −r, 0.5 r), action 2r, reward −r, nextObs obs + 1, terminal every 10th row.
    static func filled(_ rows: Int, capacity: Int) -> TransitionBuffer<3, 1> {
        let buffer = TransitionBuffer<3, 1>(capacity: capacity)
        for r in 0..<rows {
            let v = Float(r)
            buffer.append(obs: [v, -v, 0.5 * v], action: [2 * v], reward: -v, nextObs: [v + 1, 1 - v, 0.5 * v + 1],
                          terminal: r % 10 == 9, episode: r / 10)
        }
        return buffer
    }

    @Test("growing past its capacity doubles the storage and keeps every field of every row")
    func growthKeepsRows() {
        let buffer = Self.filled(100, capacity: 4)
        #expect(buffer.count == 100 && buffer.capacity == 128)
        for r in 0..<100 {
            let v = Float(r)
            #expect(buffer.observation(r, 0) == v && buffer.observation(r, 1) == -v && buffer.observation(r, 2) == 0.5 * v)
            #expect(buffer.action(r, 0) == 2 * v && buffer.reward(r) == -v)
            #expect(buffer.nextObservation(r, 0) == v + 1 && buffer.nextObservation(r, 2) == 0.5 * v + 1)
            #expect(buffer.isTerminal(r) == (r % 10 == 9) && buffer.episode(r) == r / 10)
        }
        #expect(buffer.observationLow(0) == 0 && buffer.observationHigh(0) == 100)
        #expect(buffer.observationLow(1) == -99 && buffer.observationHigh(1) == 1)
    }

    @Test("a window keeps the newest transitions in place of the oldest, never grows, and keeps each row's split")
    func windowKeepsNewest() {
        let buffer = TransitionBuffer<3, 1>(capacity: 1_000_000, window: 40)
        #expect(buffer.capacity == 40)
        var splitsBefore: [Bool] = []
        for r in 0..<130 {
            let v = Float(r)
            buffer.append(obs: [v, -v, 0.5 * v], action: [2 * v], reward: -v, nextObs: [v + 1, 1 - v, 0.5 * v + 1],
                          terminal: false, episode: r / 10)
            if r == 39 { splitsBefore = (0..<40).map { buffer.isHoldout($0) } }
        }
        #expect(buffer.count == 40 && buffer.capacity == 40 && buffer.appended == 130)
        #expect(buffer.trainCount + buffer.holdoutCount == 40)
        #expect((0..<40).map { buffer.isHoldout($0) } == splitsBefore)
        // Transition t (0 ≤ t < 130) lives in row t mod 40 while it is among the newest 40: rows hold 90..<130.
        for row in 0..<40 {
            let t = 90 + (row + 40 - 10) % 40  // 130 mod 40 = 10: row 10 holds the oldest kept (90)
            let v = Float(t)
            #expect(buffer.observation(row, 0) == v && buffer.action(row, 0) == 2 * v && buffer.reward(row) == -v)
            #expect(buffer.nextObservation(row, 1) == 1 - v && buffer.episode(row) == t / 10)
        }
        #expect(buffer.observationHigh(0) == 130 && buffer.observationLow(0) == 0, "the range covers all data seen")
    }

    @Test("the holdout split is fixed per row, disjoint from training and within 3 rows of 15% in every prefix")
    func holdoutSplit() {
        let buffer = Self.filled(2_000, capacity: 16)
        #expect(buffer.trainCount + buffer.holdoutCount == 2_000)
        var held = 0
        for r in 0..<2_000 {
            if buffer.isHoldout(r) { held += 1 }
            #expect(abs(Double(held) - 0.15 * Double(r + 1)) <= 3, "prefix \(r + 1)")
        }
        #expect(held == buffer.holdoutCount)
        var seen = Set<Int>()
        for i in 0..<buffer.holdoutCount {
            #expect(buffer.isHoldout(buffer.holdoutRow(i)))
            seen.insert(buffer.holdoutRow(i))
        }
        for i in 0..<buffer.trainCount {
            #expect(!buffer.isHoldout(buffer.trainRow(i)))
            seen.insert(buffer.trainRow(i))
        }
        #expect(seen.count == 2_000)
        // The same rows are held out in a buffer that only saw a prefix.
        let prefix = Self.filled(500, capacity: 500)
        #expect((0..<prefix.holdoutCount).map { prefix.holdoutRow($0) }
            == (0..<buffer.holdoutCount).map { buffer.holdoutRow($0) }.filter { $0 < 500 })
    }

    @Test("gather writes rows into the [feature][lane] layout and zeros the padding lanes")
    func gatherLayout() {
        let buffer = Self.filled(50, capacity: 64)
        let rows: [Int32] = [7, 3, 42, 0, 19]
        var obs = [Float](repeating: .nan, count: 3 * 16), next = obs
        var action = [Float](repeating: .nan, count: 16), reward = action
        buffer.gather(rows: rows, count: rows.count, lanes: 16, obs: &obs, action: &action, reward: &reward, nextObs: &next)
        for l in 0..<16 {
            let v: Float = l < rows.count ? Float(rows[l]) : 0
            let present: Float = l < rows.count ? 1 : 0
            #expect(obs[l] == v && obs[16 + l] == -v && obs[32 + l] == 0.5 * v)
            #expect(action[l] == 2 * v && reward[l] == -v)
            #expect(next[l] == (v + 1) * present && next[16 + l] == (1 - v) * present)
        }
    }

    @Test("sample draws stored rows uniformly, deterministically for a seed")
    func sampleRows() {
        let buffer = Self.filled(40, capacity: 64)
        var rngA = RandomSource(seed: 5), rngB = RandomSource(seed: 5)
        var counts = [Int](repeating: 0, count: 40)
        for _ in 0..<50 {
            var obsA = [Float](repeating: .nan, count: 3 * 64), obsB = obsA
            var actionA = [Float](repeating: .nan, count: 64)
            buffer.sample(count: 60, lanes: 64, rng: &rngA, obs: &obsA, action: &actionA)
            buffer.sample(count: 60, lanes: 64, rng: &rngB, obs: &obsB)
            #expect(obsA == obsB)
            for l in 0..<64 {
                if l >= 60 { #expect(obsA[l] == 0 && actionA[l] == 0); continue }
                let r = Int(obsA[l])
                #expect(obsA[64 + l] == -Float(r) && actionA[l] == 2 * Float(r))
                counts[r] += 1
            }
        }
        // 3,000 draws over 40 rows: 75 expected each, σ ≈ 8.5.
        #expect(counts.min()! > 40 && counts.max()! < 110)
    }
}
