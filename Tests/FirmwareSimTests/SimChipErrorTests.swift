import Glibc
import Testing
import EdgeIO
import FirmwareSim

/// The simulated chip refuses what the kernel refuses, with the same errno.
@Suite("SimChip errors")
struct SimChipErrorTests {
    /// The LineError `body` throws, or nil if it succeeds (or throws something else).
    func caught(_ body: () throws -> Void) -> LineError? {
        do {
            try body()
            return nil
        } catch {
            return error as? LineError
        }
    }

    @Test("requesting a line that is already requested fails with EBUSY naming the holder")
    func busy() throws {
        let chip = SimChip()
        _ = try chip.requestInputs([4], flags: [], consumer: "first")
        let error = caught { _ = try chip.requestOutputs([4], defaults: [false], flags: [], consumer: "second") }
        #expect(error?.errno == EBUSY)
        #expect(error == .lineBusy(chip: "edge-sim", offset: 4, consumer: "first"))
        #expect(error?.message.contains("'first'") == true)
    }

    @Test("the same offset twice in one request fails with EBUSY")
    func duplicateOffset() {
        let chip = SimChip()
        let error = caught { _ = try chip.requestInputs([7, 7], flags: [], consumer: "dup") }
        #expect(error?.errno == EBUSY)
        #expect(error?.offset == 7)
    }

    @Test("a released line can be requested again, and the old handle fails with EINVAL")
    func releaseFrees() throws {
        let chip = SimChip()
        let first = try chip.requestInputs([4], flags: [], consumer: "first")
        first.release()
        let second = try chip.requestInputs([4], flags: [], consumer: "second")
        #expect(second.offsets == [4])
        #expect(chip.isRequested(4))
        let stale = caught { _ = try first.getValue(4) }
        #expect(stale?.errno == EINVAL, "the released handle does not reach the new request")
        first.release()
        #expect(chip.isRequested(4))
    }

    @Test("a request of more than 64 lines fails with EINVAL (the kernel's limit)")
    func tooManyLines() throws {
        let chip = SimChip(lineCount: 100)
        let error = caught { _ = try chip.requestInputs((0..<65).map { UInt32($0) }, flags: [], consumer: "wide") }
        #expect(error?.errno == EINVAL)
        let widest = try chip.requestInputs((0..<64).map { UInt32($0) }, flags: [], consumer: "wide")
        chip.presetLevel(63, true)
        #expect(try widest.getValues() == 1 << 63)
    }

    @Test("setting a value on an input line fails with EPERM")
    func setOnInput() throws {
        let chip = SimChip()
        let input = try chip.requestInputs([3], flags: [], consumer: "in")
        let error = caught { try input.setValue(3, true) }
        #expect(error?.errno == EPERM)
        #expect(error == .setOnInput(chip: "edge-sim", offset: 3))
    }

    @Test("pull-up together with pull-down fails with EINVAL")
    func twoBiases() {
        let chip = SimChip()
        let error = caught { _ = try chip.requestInputs([1], flags: [.biasPullUp, .biasPullDown], consumer: "x") }
        #expect(error?.errno == EINVAL)
        #expect(!chip.isRequested(1))
    }

    @Test("edge detection on an output fails with EINVAL")
    func edgesOnOutput() {
        let chip = SimChip()
        let error = caught { _ = try chip.requestOutputs([1], defaults: [false], flags: .edgeBoth, consumer: "x") }
        #expect(error?.errno == EINVAL)
    }

    @Test("open-drain on an input, and open-drain with open-source, fail with EINVAL")
    func driveFlags() {
        let chip = SimChip()
        let onInput = caught { _ = try chip.requestInputs([1], flags: .openDrain, consumer: "x") }
        let both = caught {
            _ = try chip.requestOutputs([1], defaults: [true], flags: [.openDrain, .openSource], consumer: "x")
        }
        #expect(onInput?.errno == EINVAL)
        #expect(both?.errno == EINVAL)
    }

    @Test("a default count that differs from the line count fails with EINVAL")
    func defaultCount() {
        let chip = SimChip()
        let error = caught { _ = try chip.requestOutputs([1, 2], defaults: [true], flags: [], consumer: "x") }
        #expect(error?.errno == EINVAL)
    }

    @Test("an offset beyond the chip's lines fails with EINVAL and names the valid range")
    func offsetOutOfRange() {
        let chip = SimChip(lineCount: 54)
        let error = caught { _ = try chip.requestInputs([54], flags: [], consumer: "x") }
        #expect(error?.errno == EINVAL)
        #expect(error == .offsetOutOfRange(chip: "edge-sim", offset: 54, lineCount: 54))
        #expect(error?.message.contains("0 to 53") == true)
    }

    @Test("reading a line that is not in the request fails with EINVAL")
    func lineNotRequested() throws {
        let chip = SimChip()
        let request = try chip.requestInputs([2], flags: [], consumer: "x")
        let error = caught { _ = try request.getValue(9) }
        #expect(error?.errno == EINVAL)
        #expect(error == .lineNotRequested(chip: "edge-sim", offset: 9))
    }

    @Test("opening a chip by an unknown label or path fails with ENOENT")
    func noSuchChip() throws {
        let backend = SimBackend(chips: [SimChip(label: "edge-sim")])
        let byLabel = caught { _ = try backend.openChip(label: "pinctrl-bcm2711") }
        let byPath = caught { _ = try backend.openChip(path: "/dev/gpiochip3") }
        #expect(byLabel?.errno == ENOENT)
        #expect(byLabel == .noSuchChip(chip: "pinctrl-bcm2711"))
        #expect(byPath?.errno == ENOENT)
        #expect(try backend.openChip(label: "edge-sim").label == "edge-sim")
        #expect(try backend.openChip(path: "/dev/gpiochip0").lineCount == 54)
    }

    @Test("a PWM duty cycle above the period fails with EINVAL")
    func pwmDutyAbovePeriod() throws {
        let pwm = SimPWMOutput()
        try pwm.setPeriodNs(1_000)
        let error = caught { try pwm.setDutyCycleNs(2_000) }
        #expect(error?.errno == EINVAL)
        #expect(error?.chip == "pwmchip0/pwm0")
        try pwm.setDutyCycleNs(250)
        try pwm.setEnabled(true)
        #expect(pwm.dutyFraction == 0.25)
    }
}
