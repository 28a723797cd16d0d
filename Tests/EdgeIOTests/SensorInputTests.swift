import Testing
import EdgeIO
import FirmwareSim

/// Debounced switches and the pulse-width sensor on a simulated chip.
@Suite("Sensor inputs")
struct SensorInputTests {
    @Test("a bouncing switch is accepted once, after it holds for the debounce time")
    func debounce() throws {
        let chip = SimChip()
        chip.presetLevel(4, true)  // active-low switch, released
        let input = try DebouncedInput(chip: chip, offset: 4, flags: [.activeLow, .biasPullUp], debounceNs: 1_000_000)
        #expect(!input.isActive)
        let t0 = chip.clock.nowNs
        for (k, level) in [false, true, false, true, false].enumerated() {  // press with bounces
            chip.drive(4, to: level, atNs: t0 + Int64(k) * 100_000)
        }
        chip.clock.advance(to: t0 + 800_000)
        try input.poll()
        #expect(!input.isActive, "not yet held for 1 ms")
        chip.clock.advance(to: t0 + 1_500_000)
        try input.poll()
        #expect(input.isActive)
        #expect(input.changes == 1)
        #expect(input.bounces == 4)
    }

    @Test("software PWM looped back into the pulse-width sensor measures 30% of 1 ms exactly")
    func pulseWidthLoopback() throws {
        let chip = SimChip()
        chip.connect(output: 10, toInput: 11)
        let sensor = try PulseWidthSensor(chip: chip, offset: 11)
        let output = try chip.requestOutputs([10], defaults: [false], flags: [], consumer: "pwm")
        var pwm = try SoftwarePWM(request: output, offset: 10, periodNs: 1_000_000, startNs: chip.clock.nowNs)
        try pwm.setDuty(0.3)
        var deadline = chip.clock.nowNs
        for _ in 0..<20 {
            deadline = try pwm.service(nowNs: deadline)
            chip.clock.advance(to: deadline)
            try sensor.poll()
        }
        let now = chip.clock.nowNs
        #expect(sensor.highNs == 300_000)
        #expect(sensor.periodNs == 1_000_000)
        #expect(abs(sensor.dutyCycle(nowNs: now) - 0.3) < 1e-12)
        #expect(abs(sensor.frequencyHz(nowNs: now) - 1_000) < 1e-9)
        #expect(sensor.levelMismatches == 0)
    }

    @Test("a stopped pulse train reads as its level after the timeout")
    func pulseTimeout() throws {
        let chip = SimChip()
        let sensor = try PulseWidthSensor(chip: chip, offset: 5, timeoutNs: 10_000_000)
        let t0 = chip.clock.nowNs
        for k in 0..<5 { chip.toggle(5, atNs: t0 + Int64(k) * 1_000_000) }  // rises at 0, 2, 4 ms; ends high
        chip.clock.advance(to: t0 + 6_000_000)
        try sensor.poll()
        #expect(abs(sensor.dutyCycle(nowNs: chip.clock.nowNs) - 0.5) < 1e-12)
        chip.clock.advance(to: t0 + 30_000_000)
        try sensor.poll()
        #expect(sensor.dutyCycle(nowNs: chip.clock.nowNs) == 1)
        #expect(sensor.frequencyHz(nowNs: chip.clock.nowNs) == 0)
    }
}
