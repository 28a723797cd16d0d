import Testing
import EdgeIO
import FirmwareSim

/// The quadrature decoder on edges driven by hand on a simulated chip.
@Suite("Quadrature decoder")
struct QuadratureDecoderTests {
    /// A chip, its clock and a decoder on lines 1 (A) and 2 (B), homed at count 0 (levels 00).
    func make(api: SimLineAPI = .v2, countsPerUnit: Double = 1) throws -> (SimChip, QuadratureDecoder<SimChip>) {
        let chip = SimChip(api: api)
        let decoder = try QuadratureDecoder(chip: chip, a: 1, b: 2, settings: QuadratureSettings(countsPerUnit: countsPerUnit))
        return (chip, decoder)
    }

    /// The line (1 = A, 2 = B) whose edge moves the encoder one count forward or back from `count`,
    /// and the count after it (levels 00 at count 0, A leads going forward).
    func step(from count: Int64, forward: Bool) -> (line: UInt32, count: Int64) {
        let after = forward ? count + 1 : count - 1
        return ((forward ? count : after) & 1 == 0 ? 1 : 2, after)
    }

    /// Moves the simulated encoder `steps` counts (negative: backwards) from `count`, one edge every
    /// `spacingNs`, starting after the present time; returns the new count.
    func move(_ chip: SimChip, from count: Int64, steps: Int, spacingNs: Int64) -> Int64 {
        var count = count
        var t = chip.clock.nowNs
        for _ in 0..<abs(steps) {
            t += spacingNs
            let edge = step(from: count, forward: steps > 0)
            count = edge.count
            chip.toggle(edge.line, atNs: t)
        }
        chip.clock.advance(to: t + 1_000_000)
        return count
    }

    @Test("counts +1 per edge forward and -1 per edge backward")
    func counting() throws {
        let (chip, decoder) = try make()
        var truth = move(chip, from: 0, steps: 20, spacingNs: 50_000)
        try decoder.poll()
        #expect(decoder.count == 20)
        truth = move(chip, from: truth, steps: -7, spacingNs: 50_000)
        try decoder.poll()
        #expect(decoder.count == 13 && truth == 13)
        #expect(!decoder.faults.any)
    }

    @Test("decodes from toggles although v1's late-decided event types are wrong, merging lines by timestamp")
    func unreliableTypes() throws {
        let (chip, decoder) = try make(api: .v1)
        chip.irqLatencyNs = 40_000  // longer than the 5 µs edge spacing: every type is read too late
        let buffer = UnsafeMutableBufferPointer<EdgeEvent>.allocate(capacity: 64)
        defer { buffer.deallocate() }
        let probe = try chip.requestInputs([3], flags: .edgeBoth, consumer: "probe")
        chip.toggle(3, atNs: chip.clock.nowNs + 1_000)
        chip.toggle(3, atNs: chip.clock.nowNs + 2_000)
        let truth = move(chip, from: 0, steps: 12, spacingNs: 5_000)
        let probed = try probe.readEvents(into: buffer)
        #expect(probed == 2 && buffer[0].isRising == buffer[1].isRising, "the chip really mistypes fast edges")
        try decoder.poll()
        #expect(decoder.count == truth)
        #expect(decoder.faults.levelMismatches == 0 && decoder.faults.illegalTransitions == 0)
    }

    @Test("an edge the interrupt missed is found at the next level check, and the count resyncs")
    func missedEdge() throws {
        let (chip, decoder) = try make()
        var truth = move(chip, from: 0, steps: 5, spacingNs: 100_000)
        try decoder.poll()
        chip.missProbability = 1
        truth = move(chip, from: truth, steps: 1, spacingNs: 100_000)
        chip.missProbability = 0
        try decoder.poll()  // reads the levels
        try decoder.poll()  // checks them against the decoded state
        #expect(decoder.faults.levelMismatches == 1)
        #expect(decoder.count == truth)
        truth = move(chip, from: truth, steps: 3, spacingNs: 100_000)
        try decoder.poll()
        #expect(decoder.count == truth)
    }

    @Test("edges on both lines at the same instant are an illegal transition and leave the count")
    func simultaneousEdges() throws {
        let (chip, decoder) = try make()
        let t = chip.clock.nowNs + 10_000
        chip.toggle(1, atNs: t)
        chip.toggle(2, atNs: t)
        chip.clock.advance(to: t + 1_000_000)
        try decoder.poll()
        #expect(decoder.faults.illegalTransitions == 1)
        #expect(decoder.count == 0)
    }

    @Test("velocity: count over the window at high speed, edge interval at low speed, zero after the stop timeout")
    func velocity() throws {
        let (chip, decoder) = try make()
        var count = move(chip, from: 0, steps: 100, spacingNs: 100_000)  // 10,000 counts/s
        try decoder.poll()
        let fast = decoder.velocity(nowNs: chip.clock.nowNs - 1_000_000 + 100_000)
        #expect(abs(fast - 10_000) < 1e-6)
        count = move(chip, from: count, steps: -3, spacingNs: 40_000_000)   // 25 counts/s backwards
        try decoder.poll()
        let lastEdge = chip.clock.nowNs - 1_000_000
        #expect(abs(decoder.velocity(nowNs: lastEdge) - -25) < 1e-9)
        #expect(abs(decoder.velocity(nowNs: lastEdge + 80_000_000) - -12.5) < 1e-9, "bounded by 1 / time since the edge")
        #expect(decoder.velocity(nowNs: lastEdge + 600_000_000) == 0)
        #expect(count == 97)
    }

    /// The velocity estimate by its definition, over the last 64 recorded (time, count) edges: counts
    /// over the edges of the window, else one count over the last edge interval (bounded by the time
    /// since that edge), 0 after the stop timeout.
    static func referenceVelocity(_ history: [(timeNs: Int64, count: Int64)], nowNs: Int64,
                                  settings: QuadratureSettings) -> Double {
        let kept = Array(history.suffix(64))
        guard let newest = kept.last else { return 0 }
        if nowNs - newest.timeNs > settings.stopTimeoutNs { return 0 }
        var oldest = kept.count - 1
        while oldest > 0 && kept[oldest - 1].timeNs >= nowNs - settings.velocityWindowNs { oldest -= 1 }
        if oldest != kept.count - 1 {
            let span = newest.timeNs - kept[oldest].timeNs
            if span > 0 { return Double(newest.count - kept[oldest].count) * 1e9 / Double(span) / settings.countsPerUnit }
        }
        guard kept.count >= 2 else { return 0 }
        let previous = kept[kept.count - 2]
        let counts = newest.count - previous.count
        let interval = newest.timeNs - previous.timeNs
        guard counts == 1 || counts == -1, interval > 0 else { return 0 }
        var countsPerSecond = 1e9 / Double(interval)
        if nowNs > newest.timeNs { countsPerSecond = min(countsPerSecond, 1e9 / Double(nowNs - newest.timeNs)) }
        return Double(counts) * countsPerSecond / settings.countsPerUnit
    }

    @Test("velocity equals its definition on random motion, asked at the present and at earlier times")
    func velocityMatchesDefinition() throws {
        let (chip, decoder) = try make(countsPerUnit: 3)
        var rng = SimRandom(seed: 7)
        var history: [(timeNs: Int64, count: Int64)] = []
        var count: Int64 = 0
        var mismatches = 0
        for burst in 0..<3_000 {
            // A burst of 0-6 edges in one direction, spaced 20 µs to 5 ms, sometimes after a long pause.
            let forward = rng.unit() < 0.7
            var t = chip.clock.nowNs + (rng.unit() < 0.05 ? 300_000_000 : 0)
            for _ in 0..<Int(rng.unit() * 7) {
                t += 20_000 + Int64(rng.unit() * 5_000_000)
                let edge = step(from: count, forward: forward)
                count = edge.count
                chip.toggle(edge.line, atNs: t)
                chip.clock.advance(to: t + 15_000)  // past the chip's 10 µs interrupt latency
                try decoder.poll()
                history.append((t, count))
            }
            chip.clock.advance(to: max(t + 15_000, chip.clock.nowNs) + Int64(rng.unit() * 20_000_000))
            try decoder.poll()
            // Mostly the present (as a control loop asks), sometimes an earlier time.
            let asked = burst % 7 == 3 ? chip.clock.nowNs - Int64(rng.unit() * 30_000_000) : chip.clock.nowNs
            if decoder.velocity(nowNs: asked) != Self.referenceVelocity(history, nowNs: asked, settings: decoder.settings) {
                mismatches += 1
            }
        }
        #expect(decoder.count == count)
        #expect(history.count > 5_000)
        #expect(mismatches == 0)
    }

    @Test("position is the middle of the count's cell, in the settings' units")
    func position() throws {
        let (chip, decoder) = try make(countsPerUnit: 2048 / (2 * Double.pi))
        var truth: Int64 = 0
        for _ in 0..<64 {  // poll between bursts of 8 edges: a line's queue holds 16
            truth = move(chip, from: truth, steps: 8, spacingNs: 10_000)
            try decoder.poll()
        }
        #expect(decoder.count == 512 && truth == 512)
        #expect(abs(decoder.position - (512.5 * 2 * Double.pi / 2048)) < 1e-12)
    }

    @Test("reset(count:) homes to the nearest count whose phase matches the line levels")
    func homing() throws {
        let (chip, decoder) = try make()
        _ = move(chip, from: 0, steps: 2, spacingNs: 10_000)  // levels now A=1, B=1: phase 2
        try decoder.reset(count: 101)
        #expect(decoder.count == 102)
        try decoder.reset(count: 103)
        #expect(decoder.count == 102)
        try decoder.reset(count: -2)
        #expect(decoder.count == -2)
        #expect(!decoder.faults.any)
    }

    @Test("a decoder whose lines are taken fails with EBUSY and leaves nothing requested")
    func busyLines() throws {
        let chip = SimChip()
        _ = try chip.requestInputs([2], flags: [], consumer: "other")
        var failure: LineError?
        do {
            _ = try QuadratureDecoder(chip: chip, a: 1, b: 2, settings: QuadratureSettings(countsPerUnit: 1))
        } catch {
            failure = error
        }
        #expect(failure?.errno == LineErrno.busy)
        #expect(!chip.isRequested(1))
    }
}
