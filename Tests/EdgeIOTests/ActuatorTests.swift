import Foundation
import Testing
import EdgeIO
import FirmwareSim

/// A PWM output that records, at each duty write, the direction line's level (to check ordering).
final class RecordingPWM: PWMOutput {
    let name = "recording"
    let chip: SimChip
    let directionLine: UInt32
    var log: [(dutyNs: Int64, reverse: Bool)] = []
    init(chip: SimChip, directionLine: UInt32) {
        self.chip = chip
        self.directionLine = directionLine
    }
    func setPeriodNs(_ periodNs: Int64) throws(LineError) {}
    func setDutyCycleNs(_ dutyNs: Int64) throws(LineError) {
        log.append((dutyNs, chip.outputLevel(directionLine)))
    }
    func setEnabled(_ enabled: Bool) throws(LineError) {}
}

@Suite("Actuators")
struct ActuatorTests {
    @Test("the H-bridge maps the sign to the direction line and the magnitude to the duty")
    func hBridge() throws {
        let chip = SimChip()
        let pwm = SimPWMOutput()
        var bridge = try HBridge(pwm: try HardwarePWMDrive(output: pwm, periodNs: 40_000), chip: chip, directionOffset: 23)
        try bridge.set(0.5)
        #expect(pwm.dutyNs == 20_000 && !chip.outputLevel(23))
        try bridge.set(-0.25)
        #expect(pwm.dutyNs == 10_000 && chip.outputLevel(23))
        try bridge.set(3)
        #expect(pwm.dutyNs == 40_000 && !chip.outputLevel(23) && bridge.command == 1)
        try bridge.set(.nan)
        #expect(pwm.dutyNs == 0 && bridge.command == 0)
        try bridge.set(-.infinity)
        #expect(pwm.dutyNs == 0)
    }

    @Test("a direction change drops the duty to 0 before the direction line flips")
    func directionChangeOrder() throws {
        let chip = SimChip()
        let recorder = RecordingPWM(chip: chip, directionLine: 23)
        var bridge = try HBridge(pwm: try HardwarePWMDrive(output: recorder, periodNs: 1_000), chip: chip, directionOffset: 23)
        recorder.log.removeAll()
        try bridge.set(0.8)
        try bridge.set(-0.6)
        #expect(recorder.log.map(\.dutyNs) == [800, 0, 600])
        #expect(recorder.log.map(\.reverse) == [false, false, true])
    }

    @Test("hardware PWM writes the duty cycle only when its rounded value changes")
    func writesOnChange() throws {
        let pwm = SimPWMOutput()
        var drive = try HardwarePWMDrive(output: pwm, periodNs: 50_000)
        let afterSetup = pwm.writes
        try drive.setDuty(0.5)
        try drive.setDuty(0.500001)  // rounds to the same 25,000 ns
        try drive.setDuty(0.5)
        #expect(pwm.writes == afterSetup + 1)
        #expect(pwm.isEnabled && pwm.periodNs == 50_000 && drive.duty == 0.5)
    }

    @Test("software PWM returns the next toggle time and sets the line for each phase")
    func softwarePWM() throws {
        let chip = SimChip()
        let request = try chip.requestOutputs([7], defaults: [false], flags: [], consumer: "t")
        let t0 = chip.clock.nowNs
        var pwm = try SoftwarePWM(request: request, offset: 7, periodNs: 1_000, startNs: t0)
        try pwm.setDuty(0.25)
        #expect(try pwm.service(nowNs: t0) == t0 + 250)
        #expect(chip.outputLevel(7))
        #expect(try pwm.service(nowNs: t0 + 250) == t0 + 1_000)
        #expect(!chip.outputLevel(7))
        #expect(try pwm.service(nowNs: t0 + 3_100) == t0 + 3_250, "late calls land in the right period")
        #expect(chip.outputLevel(7))
    }

    @Test("sysfs PWM exports the channel, then writes period, duty cycle and enable as text")
    func sysfs() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pwm-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let channel = root + "/pwmchip0/pwm1"
        try FileManager.default.createDirectory(atPath: root + "/pwmchip0", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/pwmchip0/export", contents: nil)
        var exported = false  // pwm1/ does not exist yet: the output writes the channel to export
        do {
            _ = try SysfsPWMOutput(chip: 0, channel: 1, root: root)
        } catch {
            exported = (try? String(contentsOfFile: root + "/pwmchip0/export", encoding: .utf8)) == "1\n"
        }
        #expect(exported, "a missing channel is exported first")
        try FileManager.default.createDirectory(atPath: channel, withIntermediateDirectories: true)
        for file in ["period", "duty_cycle", "enable"] {
            FileManager.default.createFile(atPath: channel + "/" + file, contents: nil)
        }
        let output = try SysfsPWMOutput(chip: 0, channel: 1, root: root)
        try output.setPeriodNs(50_000)
        try output.setEnabled(true)
        try output.setDutyCycleNs(12_345)
        #expect(try String(contentsOfFile: channel + "/period", encoding: .utf8) == "50000\n")
        #expect(try String(contentsOfFile: channel + "/enable", encoding: .utf8) == "1\n")
        #expect(try String(contentsOfFile: channel + "/duty_cycle", encoding: .utf8) == "12345\n")
        #expect(output.name == "pwmchip0/pwm1")
    }

    @Test("sysfs PWM on a missing pwmchip fails with ENOENT naming the path")
    func sysfsMissingChip() {
        var failure: LineError?
        do {
            _ = try SysfsPWMOutput(chip: 7, channel: 0, root: "/nonexistent/pwm")
        } catch {
            failure = error
        }
        #expect(failure?.errno == ENOENT)
        #expect(failure?.chip == "/nonexistent/pwm/pwmchip7")
    }
}
