import EdgeCore
import EdgeIO
import EdgeRuntime
import FirmwareSim
import Testing

/// Drives a `SafetyMonitor` by hand: one action dimension, limits from the test, health and encoder
/// count as the test sets them.
final class SafetyHarness {
    let monitor: SafetyMonitor
    var health = PlantHealth()
    var count: Int64 = 0
    var observation: [Float] = [0, 0]

    init(_ limits: SafetyLimits, periodNs: Int64 = 1_000_000) {
        monitor = SafetyMonitor(limits: limits, periodNs: periodNs)
    }

    /// Filters `proposed` and returns (the action sent, the interventions).
    func step(_ proposed: Float, lateNs: Int64 = 0) -> (Float, SafetyInterventions) {
        var input = proposed, output: Float = .nan
        let done = observation.withUnsafeBufferPointer { obs in
            monitor.filter(proposed: &input, observation: obs, health: health, encoderCount: count,
                           lateNs: lateNs, into: &output)
        }
        return (output, done)
    }
}

@Suite("Safety")
struct SafetyTests {
    @Test("NaN and ±Inf actions send the safe action and flag a policy fault")
    func nonFiniteAction() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1, safeAction: 0))
        #expect(h.step(0.4).0 == 0.4)
        for bad in [Float.nan, .infinity, -.infinity] {
            let (sent, done) = h.step(bad)
            #expect(sent == 0)
            #expect(done.policyFault && done.usedSafeAction)
        }
        #expect(h.step(0.4).0 == 0.4, "a finite action goes through again")
        #expect(h.monitor.report.nonFiniteActions == 3)
        #expect(h.monitor.report.firstFault == .nonFiniteAction(index: 0))
        #expect(h.monitor.report.firstFaultStep == 1)
    }

    @Test("a NaN action never reaches the simulated H-bridge")
    func nanNeverReachesActuator() throws {
        let motor = try MotorFixture(seed: 1)
        let step = ControlStep(plant: motor.io, limits: SafetyLimits(actionCount: 1), periodNs: 1_000_000)
        try step.sense()
        step.proposedAction[0] = 0.5
        try step.actuate(lateNs: 0)
        #expect(motor.io.motor.command == 0.5)
        step.proposedAction[0] = .nan
        let done = try step.actuate(lateNs: 0)
        #expect(done.policyFault)
        #expect(step.appliedAction[0] == 0 && motor.io.motor.command == 0)
    }

    @Test("slew rate: 100/s at 1 ms moves at most 0.1 per step up and down; the safe action is immediate")
    func slewLimit() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1, maxRatePerSecond: 100))
        var sent: [Float] = []
        for _ in 0..<12 { sent.append(h.step(1).0) }
        var previous: Float = 0
        for a in sent {
            #expect(abs(a - previous) <= 0.1 + 1e-5)
            previous = a
        }
        #expect(abs(sent[4] - 0.5) < 1e-5)
        #expect(sent[11] == 1, "reaches the target after about 10 steps and stays")
        #expect(h.monitor.report.slewLimitedSteps >= 9 && h.monitor.report.slewLimitedSteps <= 10)
        h.health.eStopActive = true
        #expect(h.step(1).0 == 0, "stopping is not slowed")
        h.health.eStopActive = false
        #expect(abs(h.step(-1).0 - -0.1) < 1e-5, "coming back from the safe action is")
    }

    @Test("actions outside the bounds are clamped and counted")
    func clamp() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1, low: -0.5, high: 0.8))
        #expect(h.step(3).0 == 0.8)
        #expect(h.step(-3).0 == -0.5)
        #expect(h.step(0.2).0 == 0.2)
        #expect(h.monitor.report.clampedSteps == 2)
    }

    @Test("watchdog: a step starting more than a period late sends the safe action")
    func watchdog() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1))
        #expect(h.step(0.5, lateNs: 400_000).0 == 0.5)
        let (sent, done) = h.step(0.5, lateNs: 2_000_000)
        #expect(sent == 0 && done.contains(.watchdog))
        #expect(h.monitor.report.watchdogSteps == 1)
        #expect(h.monitor.report.firstFault == .lateStep(lateNs: 2_000_000))
    }

    @Test("stuck encoder: the count unchanged for 50 ms under a 0.5 drive latches a fault at the 50th still step")
    func stuckEncoderCount() {
        var limits = SafetyLimits(actionCount: 1)
        limits.stuckAfterNs = 50_000_000
        let h = SafetyHarness(limits)
        var sent: [Float] = []
        for _ in 0..<60 { sent.append(h.step(0.5).0) }
        #expect(sent[0..<50].allSatisfy { $0 == 0.5 })
        #expect(sent[50..<60].allSatisfy { $0 == 0 })
        #expect(h.monitor.latchedFault == .encoderStuck(steps: 50))
        #expect(h.monitor.report.firstFaultStep == 50)
        #expect(h.monitor.report.sensorFaultSteps == 10)
        h.monitor.clearFault()
        h.count += 1
        #expect(h.step(0.5).0 == 0.5, "cleared after re-homing")
    }

    @Test("no stuck fault while the shaft moves, under a small drive, or against a limit switch")
    func stuckEncoderNotFalse() {
        var limits = SafetyLimits(actionCount: 1)
        limits.stuckAfterNs = 50_000_000
        let moving = SafetyHarness(limits)
        for k in 0..<500 {
            if k % 40 == 0 { moving.count += 1 }  // one count every 40 ms: slow, but moving
            _ = moving.step(0.5)
        }
        let gentle = SafetyHarness(limits)
        for _ in 0..<500 { _ = gentle.step(0.2) }
        let blocked = SafetyHarness(limits)
        blocked.health.limitRightActive = true
        for _ in 0..<500 { _ = blocked.step(0.5) }
        #expect(moving.monitor.latchedFault == nil)
        #expect(gentle.monitor.latchedFault == nil)
        #expect(blocked.monitor.latchedFault == nil)
    }

    @Test("sensor errors: one glitch every second for 20 s is tolerated, 30 within 100 ms is a fault")
    func glitchRate() {
        let sparse = SafetyHarness(SafetyLimits(actionCount: 1))
        for k in 0..<20_000 {
            if k % 1_000 == 999 { sparse.health.encoder.glitches += 1 }
            sparse.count += 1
            _ = sparse.step(0.5)
        }
        #expect(sparse.monitor.latchedFault == nil)
        let noisy = SafetyHarness(SafetyLimits(actionCount: 1))
        for k in 0..<100 {
            if k % 3 == 0 { noisy.health.encoder.glitches += 1 }
            noisy.count += 1
            _ = noisy.step(0.5)
        }
        #expect(noisy.monitor.latchedFault == .sensorErrorRate(errors: 21, windowNs: 1_000_000_000))
    }

    @Test("lost edges: 3 within 10 ms that are more than a tenth of the edges are a fault at once; rarer ones are not")
    func lostEdges() {
        // An edge per 1 ms step, and a two-line jump every 3 ms: a quarter of the edges lost.
        let lossy = SafetyHarness(SafetyLimits(actionCount: 1))
        var latchedAt: Int? = nil
        for k in 0..<100 {
            if k % 3 == 1 { lossy.health.encoder.illegalTransitions += 1 }
            lossy.health.encoder.edges += 1
            lossy.count += 1
            _ = lossy.step(0.5)
            if latchedAt == nil && lossy.monitor.latchedFault != nil { latchedAt = k }
        }
        #expect(lossy.monitor.latchedFault == .sensorErrorRate(errors: 3, windowNs: 10_000_000))
        #expect(latchedAt == 7, "the third lost edge within 10 ms")
        // The same three losses among 40 edges per step (a fast encoder): under a tenth; the 1 s window
        // still counts them.
        let fast = SafetyHarness(SafetyLimits(actionCount: 1))
        for k in 0..<100 {
            if k < 9 && k % 3 == 1 { fast.health.encoder.levelMismatches += 1 }
            fast.health.encoder.edges += 40
            fast.count += 40
            _ = fast.step(0.5)
        }
        #expect(fast.monitor.latchedFault == nil)
        // Two losses within 10 ms: tolerated however few the edges.
        let two = SafetyHarness(SafetyLimits(actionCount: 1))
        for k in 0..<100 {
            if k % 20 == 1 || k % 20 == 6 { two.health.encoder.levelMismatches += 1 }
            two.count += 1
            _ = two.step(0.5)
        }
        #expect(two.monitor.latchedFault == nil)
    }

    @Test("sudden silence after a fast window is a fault, unless a limit switch or the e-stop explains it or the sensors were re-homed")
    func encoderSilence() {
        var limits = SafetyLimits(actionCount: 1)
        limits.silenceAfterEdges = 20
        func run(_ setUp: (SafetyHarness) -> Void = { _ in }) -> SafetyHarness {
            let h = SafetyHarness(limits, periodNs: 10_000_000)
            for _ in 0..<5 {
                h.health.encoder.edges += 25
                h.count += 25
                _ = h.step(0.5)
            }
            setUp(h)
            _ = h.step(0.5)  // no edge in this window
            return h
        }
        let dead = run()
        #expect(dead.monitor.latchedFault == .encoderSilent(edgesBefore: 25, windowNs: 10_000_000))
        #expect(dead.monitor.report.firstFaultStep == 5)
        #expect(run { $0.health.limitRightActive = true }.monitor.latchedFault == nil)
        #expect(run { $0.health.eStopActive = true }.monitor.latchedFault == nil)
        #expect(run { $0.health.encoder = QuadratureFaults() }.monitor.latchedFault == nil, "re-homed")
        // Slowing from 19 edges to none: under the limit.
        let h = SafetyHarness(limits, periodNs: 10_000_000)
        for edges in [25, 19, 0, 0] {
            h.health.encoder.edges += edges
            h.count += Int64(edges)
            _ = h.step(0.5)
        }
        #expect(h.monitor.latchedFault == nil)
    }

    @Test("a fast one-line run is a stuck line with or without a drive; a long slow one only under a drive")
    func oneLineRuns() {
        let idleSlow = SafetyHarness(SafetyLimits(actionCount: 1))
        _ = idleSlow.step(0)
        idleSlow.health.encoder.stuckRuns += 1
        _ = idleSlow.step(0)
        #expect(idleSlow.monitor.latchedFault == nil, "a shaft at rest may dither across one edge")
        let drivenSlow = SafetyHarness(SafetyLimits(actionCount: 1))
        _ = drivenSlow.step(0.5)
        drivenSlow.health.encoder.stuckRuns += 1
        _ = drivenSlow.step(0.5)
        #expect(drivenSlow.monitor.latchedFault == .encoderLineStuck)
        let idleFast = SafetyHarness(SafetyLimits(actionCount: 1))
        _ = idleFast.step(0)
        idleFast.health.encoder.fastStuckRuns += 1
        #expect(idleFast.step(0).1.contains(.sensorFault))
        #expect(idleFast.monitor.latchedFault == .encoderLineStuck)
    }

    @Test("a NaN observation latches a sensor fault until cleared")
    func nonFiniteObservation() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1))
        h.observation[1] = .infinity
        #expect(h.step(0.5).0 == 0)
        h.observation[1] = 0
        #expect(h.step(0.5).0 == 0, "latched")
        #expect(h.monitor.latchedFault == .nonFiniteObservation(index: 1))
        h.monitor.clearFault()
        #expect(h.step(0.5).0 == 0.5)
    }

    @Test("the report line counts each intervention and names the first fault")
    func reportLine() {
        let h = SafetyHarness(SafetyLimits(actionCount: 1))
        _ = h.step(2)
        _ = h.step(.nan)
        h.health.eStopActive = true
        _ = h.step(0.1)
        let line = h.monitor.report.summary
        #expect(line == "safety: 3 steps, 2 safe (e-stop 1, watchdog 0, NaN actions 1, sensor fault 0), 1 clamped, "
                + "0 slew-limited; first fault at step 1: policy action 0 was NaN or infinite: safe action sent, "
                + "falling back to the last good policy")
    }

    // MARK: On the simulated rig

    /// Runs the speed controller at 1 kHz; `inject` runs before each step with the step index.
    func run(_ motor: MotorFixture, steps: Int, limits: SafetyLimits = SafetyLimits(actionCount: 1),
             inject: (Int, ControlStep<SimMotorIO>, RigClock<MotorRig>) -> Void = { _, _, _ in },
             observe: (Int, SafetyInterventions, ControlStep<SimMotorIO>) -> Void = { _, _, _ in }) throws
        -> ControlStep<SimMotorIO> {
        let (loop, step) = motor.loop(limits: limits)
        let policy = SpeedController()
        var rng = RandomSource(seed: 1)
        _ = try loop.run(steps: steps) { timing throws(LineError) in
            inject(timing.index, step, loop.clock)
            let done = try step.run(policy: policy, explore: false, rng: &rng, lateNs: timing.lateNs)
            observe(timing.index, done, step)
            return true
        }
        return step
    }

    @Test("e-stop on the sim rig: the safe action goes out in the step that first sees it, at most debounce + one period after the line")
    func eStopOnRig() throws {
        let motor = try MotorFixture(seed: 8)
        let pressAt = 300, releaseAt = 400
        var periodAtPressNs: Int64 = 0
        var lineActiveNs: Int64? = nil
        var firstSafeNs: Int64? = nil
        var unsafeWhileActive = 0
        var commandWhilePressed: [Double] = []
        let step = try run(motor, steps: 500, inject: { k, _, clock in
            if k == pressAt {
                motor.rig.board.faults.eStop = true
                periodAtPressNs = clock.rigPeriodStartNs
            }
            if k == releaseAt { motor.rig.board.faults.eStop = false }
            // The rig drives the e-stop line at the start of its next 10 ms period.
            if k > pressAt && lineActiveNs == nil && clock.rigPeriodStartNs > periodAtPressNs {
                lineActiveNs = clock.rigPeriodStartNs
            }
        }, observe: { k, done, step in
            if step.plant.health.eStopActive && !done.contains(.eStop) { unsafeWhileActive += 1 }
            if done.contains(.eStop) && firstSafeNs == nil { firstSafeNs = step.plant.chip.nowNs() }
            if done.contains(.eStop) { commandWhilePressed.append(motor.io.motor.command) }
        })
        let line = try #require(lineActiveNs)
        let safe = try #require(firstSafeNs)
        #expect(unsafeWhileActive == 0)
        #expect(safe - line <= motor.io.eStop.debounceNs + 1_000_000)
        #expect(commandWhilePressed.allSatisfy { $0 == 0 })
        #expect(step.safety.report.eStopSteps >= 90 && step.safety.report.eStopSteps <= 120)
        #expect(abs(motor.io.motor.command) > 0.05, "driving again after the release")
        print("e-stop: line active to safe action \(formatDuration(safe - line)) "
              + "(debounce \(formatDuration(motor.io.eStop.debounceNs)) + at most one 1 ms period)")
    }

    @Test("a stuck encoder line on the sim rig is detected and the drive goes to the safe action")
    func stuckLineOnRig() throws {
        let motor = try MotorFixture(seed: 8)
        var faultStep: Int? = nil
        let step = try run(motor, steps: 600, inject: { k, _, _ in
            if k == 300 { motor.rig.board.faults.stuckLine = SimBoardPins.encoderA }
        }, observe: { k, done, _ in
            if done.contains(.sensorFault) && faultStep == nil { faultStep = k }
        })
        let k = try #require(faultStep)
        #expect(k > 300 && k < 400, "detected within 100 ms (step \(k))")
        #expect(step.safety.latchedFault == .encoderLineStuck, "\(step.safety.report.summary)")
        #expect(motor.io.motor.command == 0)
        print("stuck line: \(step.safety.report.summary)")
    }

    @Test("on the sim rig: 200 glitches/s is a sensor-rate fault; a 60-edge burst is an overflow fault")
    func rigSensorFaults() throws {
        let noisy = try MotorFixture(seed: 8)
        let noisyStep = try run(noisy, steps: 1_000, inject: { k, _, _ in
            if k == 200 { noisy.rig.board.faults.glitchRatePerSecond = 200 }
        })
        guard case .sensorErrorRate = noisyStep.safety.latchedFault else {
            Issue.record("expected a sensor error rate fault: \(noisyStep.safety.report.summary)")
            return
        }
        let burst = try MotorFixture(seed: 8)
        let burstStep = try run(burst, steps: 400, inject: { k, _, _ in
            if k == 200 { burst.rig.board.faults.overflowBurstEdges = 60 }
        })
        #expect(burstStep.safety.latchedFault == .eventOverflow(steps: 1), "\(burstStep.safety.report.summary)")
        #expect(burst.io.motor.command == 0)
    }
}
