import EdgeCore
import EdgeIO
import EdgeRuntime
import FirmwareSim
import Testing

/// Every fault FirmwareSim can inject, on the motor rig driven through the real-time runtime exactly
/// as training and `edge-ctl run` drive it (a `ControlSession` over `MotorPlant` with the rig's own
/// safety limits, sensors polled every 1 ms, 10 ms control period): the safety layer detects the fault
/// (its own flag and counter), the safe action goes out at the first control step after the fault's
/// onset (one control period), and the run's `SafetyReport` names it.
@Suite("Fault injection")
struct FaultInjectionTests {
    /// One injected fault and what the safety layer must say about it.
    struct Case {
        var name: String
        /// Sets the fault on the rig (called between control steps).
        var inject: (MotorRig) -> Void
        /// The intervention the safety layer must apply.
        var intervention: SafetyInterventions
        /// The first fault the report must name.
        var fault: (SafetyFault) -> Bool
        /// Control periods from the onset to the safe action, as measured (1: the first step after the
        /// onset). Every fault here takes 1 at this speed (about 0.6 of full speed). Dropped edges: more
        /// than 2 lost-edge reads within 10 ms that are more than a tenth of the edges (`SafetyLimits`);
        /// a stuck line: 4 events on one line each within 2 ms of the previous, reversals no shaft makes
        /// (`QuadratureSettings`). `speedRange` measures the speeds below which they take longer, and
        /// FaultInjectionFalseAlarmTests the fault-free runs that must never trip them.
        var periods = 1
    }

    /// What happened in one run with a fault injected after step `onsetAfterStep`.
    struct Outcome {
        var firstInterventionStep: Int?
        /// Steps after the onset with the expected intervention (safe action, or clamped for saturation).
        var stepsActedAfterOnset = 0
        var interventionsBeforeOnset = 0
        var report = SafetyReport()
        var commandAtDetection: Double?
        var maxAppliedMagnitude: Float = 0
    }

    static let onsetAfterStep = 150        // 1.5 s at speed
    static let steps = 200
    static let seed: UInt64 = 8            // set-point about 0.6 of full speed: the drive is well above 0.3

    static var cases: [Case] { [
        Case(name: "noise burst (1,500 glitches/s per encoder line)",
             inject: { $0.board.faults.glitchRatePerSecond = 1_500 },
             intervention: .sensorFault, fault: { if case .sensorErrorRate = $0 { true } else { false } }),
        Case(name: "dropped edges (every encoder interrupt missed)",
             inject: { $0.board.faults.dropEdgeProbability = 1 },
             intervention: .sensorFault, fault: { if case .sensorErrorRate = $0 { true } else { false } }),
        Case(name: "stuck line (encoder A held)",
             inject: { $0.board.faults.stuckLine = SimBoardPins.encoderA },
             intervention: .sensorFault, fault: { $0 == .encoderLineStuck }),
        Case(name: "event-queue overflow (60-edge burst)",
             inject: { $0.board.faults.overflowBurstEdges = 60 },
             intervention: .sensorFault, fault: { if case .eventOverflow = $0 { true } else { false } }),
        Case(name: "latency spike (events 5 ms late)",
             inject: { $0.board.faults.latencySpikeNs = 5_000_000 },
             intervention: .sensorFault, fault: { if case .lateSensorEvents = $0 { true } else { false } }),
        Case(name: "e-stop pressed",
             inject: { $0.board.faults.eStop = true },
             intervention: .eStop, fault: { $0 == .eStop }),
    ] }

    /// Runs the speed controller on the motor rig through a `ControlSession`; `inject` runs after step
    /// `onsetAfterStep` (the rig applies it from the period that follows, which step onset + 1 senses).
    /// `policy` replaces the speed controller from the onset when given (actuator saturation).
    static func run(inject: (MotorRig) -> Void, saturatingPolicy: Float? = nil, setPoint: Double? = nil) throws -> Outcome {
        let plant = try MotorPlant(mode: .board)
        try plant.reset(seed: seed)
        if let setPoint {
            plant.rig.setPoint = setPoint * MotorRig.maxSpeed
            plant.io.setPoint = plant.rig.setPoint
        }
        let periodNs = plant.controlPeriodNs
        let clock = RigClock(rig: plant.rig, chargesComputeTime: false)
        let loop = ControlLoop(clock: clock, periodNs: periodNs, stopsOnSignals: false)
        let step = ControlStep(plant: plant.io, limits: MotorPlant.safetyLimits(periodNs: periodNs), periodNs: periodNs)
        let policy = SaturatingController()
        let mailbox = PolicyMailbox(initial: policy, makeSlot: { SaturatingController() })
        let session = ControlSession(loop: loop, step: step, mailbox: mailbox, makePolicy: { SaturatingController() },
                                     explore: false, seed: 1)
        loop.start(firstDeadlineNs: clock.nowNs)
        var outcome = Outcome()
        _ = try session.run(steps: steps, pollEveryNs: 1_000_000) { record in
            let k = record.timing.index
            let applied = abs(step.appliedAction[0])
            if k > onsetAfterStep { outcome.maxAppliedMagnitude = max(outcome.maxAppliedMagnitude, applied) }
            // Before the onset no safe action may go out (the speed controller's start-up may be clamped).
            if k <= onsetAfterStep && record.interventions.usedSafeAction { outcome.interventionsBeforeOnset += 1 }
            let acted = saturatingPolicy == nil ? record.interventions.usedSafeAction
                                                : record.interventions.contains(.clamped)
            if k > onsetAfterStep && acted {
                outcome.stepsActedAfterOnset += 1
                if outcome.firstInterventionStep == nil {
                    outcome.firstInterventionStep = k
                    outcome.commandAtDetection = plant.io.motor.command
                }
            }
            if k == onsetAfterStep {
                inject(plant.rig)
                if let saturatingPolicy {
                    let next = SaturatingController()
                    next.output = saturatingPolicy
                    mailbox.publish(copyOf: next)
                }
            }
            return true
        }
        outcome.report = step.safety.report
        return outcome
    }

    @Test("every sim fault is detected at its measured latency, the safe action goes out in the detecting step, and the report names it")
    func everyFault() throws {
        var detected = 0
        var withinOnePeriod = 0
        var lines: [String] = []
        for c in Self.cases {
            let outcome = try Self.run(inject: c.inject)
            let onset = Self.onsetAfterStep + 1
            #expect(outcome.interventionsBeforeOnset == 0, "\(c.name): the safety layer acted before the fault")
            guard let k = outcome.firstInterventionStep else {
                Issue.record("\(c.name): not detected in \(Self.steps - onset) steps: \(outcome.report.summary)")
                lines.append("\(c.name): NOT detected")
                continue
            }
            let firstFault = outcome.report.firstFault
            let named = firstFault.map(c.fault) ?? false
            let periods = k - onset + 1
            #expect(periods == c.periods, "\(c.name): safe action \(periods) periods after the onset, expected \(c.periods)")
            #expect(named, "\(c.name): the report names \(String(describing: firstFault))")
            // Detection and the safe action are the same step: the step whose sensing saw the fault.
            #expect(outcome.report.firstFaultStep == k, "\(c.name): first fault recorded at step \(outcome.report.firstFaultStep)")
            #expect(outcome.commandAtDetection == 0, "\(c.name): the H-bridge got \(outcome.commandAtDetection ?? .nan)")
            #expect(outcome.report.safeActionSteps == Self.steps - k, "\(c.name): \(outcome.report.summary)")
            switch c.intervention {
            case .eStop: #expect(outcome.report.eStopSteps == Self.steps - k)
            default: #expect(outcome.report.sensorFaultSteps == Self.steps - k)
            }
            if periods == c.periods && named { detected += 1 }
            if periods == 1 && named { withinOnePeriod += 1 }
            lines.append("\(c.name): safe action at step \(k), \(periods) period(s) after the onset: \(outcome.report.summary)")
        }

        // Actuator saturation: the policy asks for 40 times full drive from the onset on. The safety layer
        // clamps it to the actuator's range in that very step (and the slew limit spreads the jump), so
        // the drive never leaves [-1, 1]; the report counts the clamped steps.
        let saturation = try Self.run(inject: { _ in }, saturatingPolicy: 40)
        let saturationStep = saturation.firstInterventionStep
        #expect(saturationStep == Self.onsetAfterStep + 1, "saturation: clamped first at step \(saturationStep ?? -1)")
        #expect(saturation.interventionsBeforeOnset == 0)
        #expect(saturation.stepsActedAfterOnset == Self.steps - Self.onsetAfterStep - 1, "\(saturation.report.summary)")
        #expect(saturation.maxAppliedMagnitude <= 1, "the drive left its range: \(saturation.maxAppliedMagnitude)")
        if saturationStep == Self.onsetAfterStep + 1 && saturation.maxAppliedMagnitude <= 1 {
            detected += 1
            withinOnePeriod += 1
        }
        lines.append("actuator saturation (policy asks 40x full drive): clamped from step \(saturationStep ?? -1): "
                     + saturation.report.summary)

        let injected = Self.cases.count + 1
        print("fault injection: \(detected) of \(injected) injected faults detected and made safe; "
              + "\(withinOnePeriod) of \(injected) within one control period of the onset")
        for line in lines { print("  " + line) }
        #expect(detected == injected)
    }

    /// Dropped edges and a stuck line over the motor's speed range (set-points ±5% to ±85% of
    /// `maxSpeed`, 37 to 640 rad/s). Dropped edges: one period from 10% up (lost-edge evidence at the
    /// polls, or, where a whole number of x4 cycles passes between polls and the level reads alias,
    /// around 65-75%, the sudden silence); at 5% the evidence takes two periods (about 3 edges per
    /// period to lose). A stuck line: one period from 20% up (the other line toggles faster than every
    /// 2 ms); slower, the one-line pattern needs more time to be impossible (measured: 2 periods at
    /// 15%, 3 at 10%, 6 at 5%).
    @Test("dropped edges and a stuck line across the speed range: one period above 10% and 20% of full speed")
    func speedRange() throws {
        var lines: [String] = []
        for magnitude in stride(from: 0.05, through: 0.851, by: 0.05) {
            for sign in [1.0, -1.0] {
                let setPoint = sign * magnitude
                var line = "set-point \(Int((setPoint * 100).rounded()))%:"
                let dropped = try Self.run(inject: { $0.board.faults.dropEdgeProbability = 1 }, setPoint: setPoint)
                let stuck = try Self.run(inject: { $0.board.faults.stuckLine = SimBoardPins.encoderA }, setPoint: setPoint)
                for (name, outcome) in [("dropped edges", dropped), ("stuck line", stuck)] {
                    let periods = outcome.firstInterventionStep.map { $0 - Self.onsetAfterStep } ?? Int.max
                    line += " \(name) \(periods) (\(outcome.report.firstFault.map { "\($0)" } ?? "none"))"
                    #expect(outcome.interventionsBeforeOnset == 0, "\(line)")
                }
                let droppedPeriods = dropped.firstInterventionStep.map { $0 - Self.onsetAfterStep } ?? Int.max
                let stuckPeriods = stuck.firstInterventionStep.map { $0 - Self.onsetAfterStep } ?? Int.max
                #expect(droppedPeriods <= (magnitude >= 0.099 ? 1 : 2), "\(line)")
                #expect(stuckPeriods <= (magnitude >= 0.199 ? 1 : 6), "\(line)")
                switch dropped.report.firstFault {
                case .sensorErrorRate?, .encoderSilent?: break
                default: Issue.record("dropped edges named otherwise: \(line)")
                }
                #expect(stuck.report.firstFault == .encoderLineStuck, "\(line)")
                lines.append(line)
            }
        }
        for line in lines { print("speed range: " + line) }
    }

    @Test("without a fault the same run has no intervention at all")
    func cleanRun() throws {
        let outcome = try Self.run(inject: { _ in })
        #expect(outcome.firstInterventionStep == nil, "\(outcome.report.summary)")
        #expect(outcome.report.safeActionSteps == 0 && outcome.report.firstFault == nil, "\(outcome.report.summary)")
    }
}

/// The speed controller of the runtime tests, whose output can be overridden (a saturating policy).
final class SaturatingController: ControlPolicy {
    let speed = SpeedController()
    /// When set, the action every step regardless of the observation.
    var output: Float? = nil

    func copyParameters(from other: SaturatingController) { output = other.output }

    func controlAction(_ observation: UnsafePointer<Float>, explore: Bool, rng: inout RandomSource,
                       into action: UnsafeMutablePointer<Float>) {
        if let output { action[0] = output; return }
        speed.controlAction(observation, explore: explore, rng: &rng, into: action)
    }
}
