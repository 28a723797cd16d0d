import Testing
import EdgeIO
import FirmwareSim

/// The simulated chip's edge events behave as the kernel's do under libgpiod v1 and v2.
@Suite("SimChip events")
struct SimChipEventTests {
    func readAll(_ request: SimLineRequest) throws -> [EdgeEvent] {
        let buffer = UnsafeMutableBufferPointer<EdgeEvent>.allocate(capacity: 256)
        defer { buffer.deallocate() }
        let n = try request.readEvents(into: buffer)
        return Array(buffer[0..<n])
    }

    @Test("v1 keeps 16 events per line and drops the newest on overflow")
    func v1Overflow() throws {
        let clock = SimClock()
        let chip = SimChip(api: .v1, clock: clock)
        let request = try chip.requestInputs([5], flags: .edgeBoth, consumer: "t")
        let start = clock.nowNs
        for k in 0..<20 { chip.toggle(5, atNs: start + Int64(k) * 100_000) }
        clock.advance(to: start + 3_000_000)
        let events = try readAll(request)
        #expect(events.count == 16)
        #expect(events.first?.timestampNs == start)
        #expect(events.last?.timestampNs == start + 15 * 100_000)
        #expect(events.allSatisfy { $0.lineSequence == 0 && $0.globalSequence == 0 })
        #expect(chip.overflowDrops == 4)
    }

    @Test("v2 sequence numbers reveal the events dropped by a full queue")
    func v2SequenceGap() throws {
        let clock = SimClock()
        let chip = SimChip(api: .v2, clock: clock)
        let request = try chip.requestInputs([5], flags: .edgeBoth, consumer: "t")
        let start = clock.nowNs
        for k in 0..<20 { chip.toggle(5, atNs: start + Int64(k) * 100_000) }
        clock.advance(to: start + 3_000_000)
        let first = try readAll(request)
        chip.toggle(5, atNs: start + 3_100_000)
        clock.advance(to: start + 4_000_000)
        let second = try readAll(request)
        #expect(first.count == 16)
        #expect(first.map(\.lineSequence) == (1...16).map { UInt64($0) })
        #expect(second.map(\.lineSequence) == [21])
        #expect(second.map(\.globalSequence) == [21])
    }

    @Test("the event type is decided late: a second edge within the interrupt latency makes both types equal")
    func lateType() throws {
        let clock = SimClock()
        let chip = SimChip(api: .v1, clock: clock)
        chip.irqLatencyNs = 10_000
        let request = try chip.requestInputs([8], flags: .edgeBoth, consumer: "t")
        let t0 = clock.nowNs
        chip.drive(8, to: true, atNs: t0)               // rising ...
        chip.drive(8, to: false, atNs: t0 + 2_000)      // ... and falling 2 µs later
        chip.drive(8, to: true, atNs: t0 + 100_000)     // a slow edge: typed correctly
        clock.advance(to: t0 + 200_000)
        let events = try readAll(request)
        #expect(events.map(\.isRising) == [false, false, true])
        #expect(events.map(\.timestampNs) == [t0, t0 + 2_000, t0 + 100_000])
    }

    @Test("events are not visible before the interrupt latency has passed")
    func latency() throws {
        let clock = SimClock()
        let chip = SimChip(clock: clock)
        chip.irqLatencyNs = 50_000
        let request = try chip.requestInputs([8], flags: .edgeRising, consumer: "t")
        let t0 = clock.nowNs
        chip.drive(8, to: true, atNs: t0)
        clock.advance(to: t0 + 49_999)
        #expect(try request.waitEvents(timeoutNs: 0) == false)
        clock.advance(to: t0 + 50_000)
        #expect(try request.waitEvents(timeoutNs: 0) == true)
        #expect(try readAll(request).map(\.isRising) == [true])
    }

    @Test("active-low inverts values and edge kinds; only requested edges are queued")
    func activeLow() throws {
        let clock = SimClock()
        let chip = SimChip(clock: clock)
        chip.presetLevel(9, true)
        let request = try chip.requestInputs([9], flags: [.activeLow, .edgeRising], consumer: "t")
        #expect(try request.getValue(9) == false)
        let t0 = clock.nowNs + 1_000
        chip.drive(9, to: false, atNs: t0)        // physical fall = logical rise
        chip.drive(9, to: true, atNs: t0 + 1_000_000)
        clock.advance(to: t0 + 2_000_000)
        let events = try readAll(request)
        #expect(events.count == 1)
        #expect(events.first?.isRising == true)
        #expect(events.first?.timestampNs == t0)
    }

    @Test("v1 reads line by line; v2 reads one queue in time order")
    func readOrder() throws {
        for api in [SimLineAPI.v1, .v2] {
            let clock = SimClock()
            let chip = SimChip(api: api, clock: clock)
            let request = try chip.requestInputs([1, 2], flags: .edgeBoth, consumer: "t")
            let t0 = clock.nowNs
            chip.toggle(2, atNs: t0)
            chip.toggle(1, atNs: t0 + 100_000)
            chip.toggle(2, atNs: t0 + 200_000)
            clock.advance(to: t0 + 1_000_000)
            let offsets = try readAll(request).map(\.offset)
            #expect(offsets == (api == .v1 ? [1, 2, 2] : [2, 1, 2]))
        }
    }

    @Test("getValues reads every line of a request at once, bit k for offsets[k], active-low applied")
    func getValuesBits() throws {
        let chip = SimChip()
        chip.presetLevel(5, true)
        chip.presetLevel(3, false)
        chip.presetLevel(8, true)
        let request = try chip.requestInputs([5, 3, 8], flags: [], consumer: "t")
        #expect(try request.getValues() == 0b101)
        chip.presetLevel(3, true)
        chip.presetLevel(5, false)
        #expect(try request.getValues() == 0b110)
        for k in 0..<3 {
            #expect(try request.getValue(request.offsets[k]) == ((try request.getValues() >> UInt64(k)) & 1 == 1))
        }
        let inverted = try chip.requestInputs([20, 21], flags: .activeLow, consumer: "t")
        chip.presetLevel(21, true)
        #expect(try inverted.getValues() == 0b01, "physical low reads logical high")
        let outputs = try chip.requestOutputs([30, 31], defaults: [false, true], flags: [], consumer: "t")
        #expect(try outputs.getValues() == 0b10)
        request.release()
        #expect(throws: LineError.lineNotRequested(chip: "edge-sim", offset: 5)) { try request.getValues() }
    }

    @Test("outputs start at their defaults, and pull-up lifts an undriven input")
    func outputsAndBias() throws {
        let chip = SimChip()
        let outputs = try chip.requestOutputs([10, 11], defaults: [true, false], flags: [], consumer: "t")
        #expect(chip.outputLevel(10) && !chip.outputLevel(11))
        try outputs.setValue(11, true)
        #expect(try outputs.getValue(11))
        let input = try chip.requestInputs([12], flags: .biasPullUp, consumer: "t")
        #expect(try input.getValue(12))
    }

    @Test("an edge driven at the instant of a level read that missed it is stamped 1 ns after the read")
    func causality() throws {
        let clock = SimClock()
        let chip = SimChip(clock: clock)
        let request = try chip.requestInputs([6], flags: .edgeBoth, consumer: "t")
        let t0 = clock.nowNs
        #expect(try request.getValue(6) == false)
        chip.drive(6, to: true, atNs: t0)
        clock.advance(to: t0 + 1_000_000)
        #expect(try readAll(request).map(\.timestampNs) == [t0 + 1])
    }

    @Test("a stuck line ignores the plant and jumps to the driven level with one edge when freed")
    func stuck() throws {
        let clock = SimClock()
        let chip = SimChip(clock: clock)
        let request = try chip.requestInputs([6], flags: .edgeBoth, consumer: "t")
        let t0 = clock.nowNs
        chip.setStuck(6, true, atNs: t0)
        chip.toggle(6, atNs: t0 + 1_000)
        chip.toggle(6, atNs: t0 + 2_000)
        chip.toggle(6, atNs: t0 + 3_000)
        #expect(try request.getValue(6) == false)
        chip.setStuck(6, false, atNs: t0 + 4_000)
        clock.advance(to: t0 + 1_000_000)
        #expect(try request.getValue(6) == true)
        #expect(try readAll(request).map(\.timestampNs) == [t0 + 4_000])
    }
}
