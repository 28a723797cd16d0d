import EdgeIO
import Foundation
import Testing

/// One test's view of a fake libgpiod: the loaded library, the fake's controls, and a device
/// directory with two chips: gpiochip0 "other-chip" (8 lines) and gpiochip1 "fake-bcm" (58 lines).
struct FakeBench {
    let api: Int
    let controls: LibgpiodFake.Controls
    let backend: LibgpiodBackend
    let directory: URL

    init(api: Int, chips: [String] = ["other-chip 8", "fake-bcm 58"]) throws {
        let path = try #require(LibgpiodFake.libraries[api])
        self.api = api
        controls = LibgpiodFake.Controls(path: path)
        controls.reset()
        directory = try LibgpiodUnderTest.temporaryDirectory()
        for (index, chip) in chips.enumerated() {
            try chip.write(to: directory.appendingPathComponent("gpiochip\(index)"), atomically: true, encoding: .utf8)
        }
        backend = LibgpiodBackend(library: try LibgpiodLibrary.load(path: path), deviceDirectory: directory.path)
    }

    func chip() throws -> LibgpiodChip {
        try backend.openChip(label: "fake-bcm")
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("libgpiod backend requests, values and events (fake libgpiod v1 and v2)", .serialized)
struct LibgpiodRequestTests {
    static let apis = LibgpiodFake.libraries.keys.sorted()

    @Test("Chips are found by label among several; the others are closed again",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func openByLabel(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        #expect(chip.name == "gpiochip1")
        #expect(chip.label == "fake-bcm")
        #expect(chip.lineCount == 58)
        #expect(chip.path == bench.directory.path + "/gpiochip1")
        #expect(bench.controls.openChips == 1)
        chip.close()
        #expect(bench.controls.openChips == 0)
        #expect(bench.backend.library.version == (api == 1 ? "1.6.99-fake" : "2.2.99-fake"))
        let path = bench.directory.path
        #expect(bench.backend.availableChips() == ["other-chip (\(path)/gpiochip0)", "fake-bcm (\(path)/gpiochip1)"])
        #expect(bench.controls.openChips == 0)
    }

    @Test("A chip that refuses to open makes a failed lookup permissionDenied, naming its path",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func permissionDenied(api: Int) throws {
        let bench = try FakeBench(api: api, chips: ["EACCES", "other-chip 8"])
        defer { bench.cleanUp() }
        let error = LibgpiodUnderTest.error { () throws(LineError) in try bench.backend.openChip(label: "pinctrl-bcm2711") }
        #expect(error == .permissionDenied(chip: bench.directory.path + "/gpiochip0 (looking for 'pinctrl-bcm2711')"))
        #expect(try bench.backend.openChip(label: "other-chip").lineCount == 8)
        let denied = bench.directory.path + "/gpiochip0"
        #expect(bench.backend.availableChips().first
            == "\(denied) (no permission to open \(denied) (EACCES): add the user to the gpio group or run as root)")
    }

    @Test("Inputs are requested with edge detection, bias and active-low as each API spells them",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func inputSettings(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        let fake = bench.controls
        let encoder = try chip.requestInputs([17, 27], flags: [.edgeBoth, .biasPullUp, .activeLow], consumer: "edge-ctl")
        let index = try chip.requestInputs([5], flags: [.edgeRising, .biasPullDown], consumer: "index")
        let plain = try chip.requestInputs([6], flags: [.biasDisabled], consumer: "plain")
        #expect(encoder.offsets == [17, 27])
        for offset: UInt32 in [17, 27, 5, 6] { #expect(fake.state(offset, .requested) == 1) }
        #expect(fake.consumer(27) == "edge-ctl")
        #expect(fake.consumer(5) == "index")
        if api == 1 {
            // request types: 2 input, 5 rising-edge events, 6 both-edges events; flags: 4 active-low,
            // 8 bias-disable, 16 pull-down, 32 pull-up.
            #expect([17, 27, 5, 6].map { fake.state($0, .type) } == [6, 6, 5, 2])
            #expect([17, 27, 5, 6].map { fake.state($0, .flags) } == [36, 36, 16, 8])
        } else {
            // direction 2 input; edge 1 none, 2 rising, 4 both; bias 3 disabled, 4 pull-up, 5 pull-down.
            #expect([17, 27, 5, 6].map { fake.state($0, .direction) } == [2, 2, 2, 2])
            #expect([17, 27, 5, 6].map { fake.state($0, .edge) } == [4, 4, 2, 1])
            #expect([17, 27, 5, 6].map { fake.state($0, .bias) } == [4, 4, 5, 3])
            #expect([17, 27, 5, 6].map { fake.state($0, .activeLow) } == [1, 1, 0, 0])
        }
        fake.setValue(17, 1)
        #expect(try encoder.getValue(17) == true)
        #expect(try encoder.getValue(27) == false)
        #expect(try encoder.getValues() == 0b01)
        fake.setValue(27, 1)
        fake.setValue(17, 0)
        #expect(try encoder.getValues() == 0b10, "one read of both lines, bit k for offsets[k]")
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try encoder.setValue(17, true) } == .setOnInput(chip: "fake-bcm", offset: 17))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try encoder.getValue(5) } == .lineNotRequested(chip: "fake-bcm", offset: 5))
        for request in [encoder, index, plain] { request.release() }
        chip.close()
    }

    @Test("Outputs start at their defaults and follow setValue",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func outputs(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        let fake = bench.controls
        let motor = try chip.requestOutputs([18, 23], defaults: [true, false], flags: [.openDrain], consumer: "motor")
        #expect(fake.state(18, .value) == 1)
        #expect(fake.state(23, .value) == 0)
        if api == 1 {
            #expect(fake.state(18, .type) == 3)   // output
            #expect(fake.state(18, .flags) == 1)  // open drain
        } else {
            #expect(fake.state(18, .direction) == 3)
            #expect(fake.state(23, .drive) == 2)  // open drain
        }
        try motor.setValue(23, true)
        try motor.setValue(18, false)
        #expect(fake.state(23, .value) == 1)
        #expect(fake.state(18, .value) == 0)
        #expect(try motor.getValue(23) == true)
        motor.release()
        chip.close()
    }

    @Test("Edge events come back with offsets, kinds and timestamps; v2 adds sequence numbers",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func events(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        let encoder = try chip.requestInputs([17, 27], flags: .edgeBoth, consumer: "encoder")
        #expect(try encoder.waitEvents(timeoutNs: 0) == false)
        let edges: [(UInt32, Bool, UInt64)] = [(17, true, 1_000), (27, true, 1_500), (17, false, 2_000),
                                                (27, false, 2_500), (17, true, 5_000_000_123)]
        for (offset, rising, time) in edges { bench.controls.inject(offset, rising: rising, atNs: time) }
        #expect(try encoder.waitEvents(timeoutNs: 1_000_000) == true)

        var events: [EdgeEvent] = []
        let buffer = UnsafeMutableBufferPointer<EdgeEvent>.allocate(capacity: 16)
        defer { buffer.deallocate() }
        let first = try encoder.readEvents(into: UnsafeMutableBufferPointer(rebasing: buffer[0..<2]))
        #expect(first == 2)
        events += buffer[0..<first]
        let rest = try encoder.readEvents(into: buffer)
        #expect(rest == 3)
        events += buffer[0..<rest]
        #expect(try encoder.readEvents(into: buffer) == 0)
        #expect(try encoder.waitEvents(timeoutNs: 0) == false)

        if api == 1 {
            // v1 reads line by line, each line in time order, no sequence numbers.
            #expect(events == [EdgeEvent(offset: 17, isRising: true, timestampNs: 1_000),
                               EdgeEvent(offset: 17, isRising: false, timestampNs: 2_000),
                               EdgeEvent(offset: 17, isRising: true, timestampNs: 5_000_000_123),
                               EdgeEvent(offset: 27, isRising: true, timestampNs: 1_500),
                               EdgeEvent(offset: 27, isRising: false, timestampNs: 2_500)])
        } else {
            #expect(events == [EdgeEvent(offset: 17, isRising: true, timestampNs: 1_000, lineSequence: 1, globalSequence: 1),
                               EdgeEvent(offset: 27, isRising: true, timestampNs: 1_500, lineSequence: 1, globalSequence: 2),
                               EdgeEvent(offset: 17, isRising: false, timestampNs: 2_000, lineSequence: 2, globalSequence: 3),
                               EdgeEvent(offset: 27, isRising: false, timestampNs: 2_500, lineSequence: 2, globalSequence: 4),
                               EdgeEvent(offset: 17, isRising: true, timestampNs: 5_000_000_123, lineSequence: 3,
                                         globalSequence: 5)])
        }
        encoder.release()
        chip.close()
    }

    @Test("A busy line is lineBusy naming its holder, and no line of the request stays taken",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func busyLine(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        bench.controls.setBusy(27)
        let error = LibgpiodUnderTest.error { () throws(LineError) in
            try chip.requestInputs([17, 27], flags: .edgeBoth, consumer: "encoder")
        }
        #expect(error == .lineBusy(chip: "fake-bcm", offset: 27, consumer: "other-app"))
        #expect(error?.message.hasPrefix("fake-bcm line 27 is busy (EBUSY), held by 'other-app'") == true)
        #expect(bench.controls.state(17, .requested) == 0)
        chip.close()
        #expect(bench.controls.openChips == 0)
    }

    @Test("Edge detection on a line without an interrupt is noDevice with ENXIO",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func noInterrupt(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        bench.controls.setNoIRQ(5)
        let error = LibgpiodUnderTest.error { () throws(LineError) in try chip.requestInputs([5], flags: .edgeBoth, consumer: "x") }
        #expect(error == .noDevice(chip: "fake-bcm", offset: 5, errno: 6))
        let polled = try chip.requestInputs([5], flags: [], consumer: "x")
        #expect(bench.controls.state(5, .requested) == 1)
        polled.release()
        chip.close()
    }

    @Test("Offsets beyond the chip and invalid flag combinations are refused before libgpiod is asked",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func refusedEarly(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try chip.requestInputs([17, 58], flags: [], consumer: "x") }
            == .offsetOutOfRange(chip: "fake-bcm", offset: 58, lineCount: 58))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try chip.requestInputs([17], flags: .openDrain, consumer: "x") }
            == .invalidFlags(chip: "fake-bcm", offset: 17, reason: "open-drain/open-source need an output line"))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in
            try chip.requestOutputs([18, 23], defaults: [true], flags: [], consumer: "x")
        } == .invalidFlags(chip: "fake-bcm", offset: 18, reason: "1 default values for 2 lines"))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try chip.requestInputs([], flags: [], consumer: "x") }
            == .invalidFlags(chip: "fake-bcm", offset: 0, reason: "request at least one line"))
        #expect([17, 18, 23, 58].allSatisfy { bench.controls.state($0, .requested) == 0 })
        chip.close()
    }

    @Test("Release gives the lines back; the chip closes after its last request is released",
          .enabled(if: !LibgpiodRequestTests.apis.isEmpty, "needs cc to build the fake libgpiod"),
          arguments: LibgpiodRequestTests.apis)
    func releaseAndClose(api: Int) throws {
        let bench = try FakeBench(api: api)
        defer { bench.cleanUp() }
        let chip = try bench.chip()
        let request = try chip.requestOutputs([18], defaults: [false], flags: [], consumer: "x")
        chip.close()
        #expect(bench.controls.openChips == 1)
        #expect(bench.controls.state(18, .requested) == 1)
        request.release()
        request.release()
        #expect(bench.controls.openChips == 0)
        #expect(bench.controls.state(18, .requested) == 0)
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try request.getValue(18) } == .lineNotRequested(chip: "fake-bcm", offset: 18))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in _ = try request.getValues() } == .lineNotRequested(chip: "fake-bcm", offset: 18))
        #expect(LibgpiodUnderTest.error { () throws(LineError) in try chip.requestInputs([17], flags: [], consumer: "x") }
            == .system(chip: "fake-bcm", offset: 17, errno: 9, call: "request on a closed chip"))
    }
}
