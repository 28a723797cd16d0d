import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeRuntime
import FirmwareSim
import Glibc
import Testing

/// Serialized: two tests use the process-wide stop flag.
@Suite("Control session", .serialized)
struct ControlSessionTests {
    typealias Session = ControlSession<RigClock<MotorRig>, SimMotorIO, SpeedController>

    func session(_ motor: MotorFixture, initialGain: Float = 8) -> Session {
        let (loop, step) = motor.loop(limits: SafetyLimits(actionCount: 1))
        let mailbox = PolicyMailbox(initial: SpeedController(gain: initialGain)) { SpeedController() }
        return Session(loop: loop, step: step, mailbox: mailbox, makePolicy: { SpeedController() },
                       explore: false, seed: 1)
    }

    @Test("a policy that outputs NaN is replaced by the last good one from the next step; a new publish is tried again")
    func fallbackToLastGood() throws {
        let motor = try MotorFixture(seed: 8)
        let session = session(motor, initialGain: 4)
        session.trustAfterSteps = 50
        var records: [ControlStepRecord] = []
        var actions: [Float] = []
        let exit = try session.run(steps: 400) { record in
            records.append(record)
            actions.append(session.step.appliedAction[0])
            switch record.timing.index {
            case 99: session.mailbox.publish(copyOf: SpeedController(gain: 6))    // good: version 1
            case 199: session.mailbox.publish(copyOf: SpeedController(gain: .nan)) // bad: version 2
            case 299: session.mailbox.publish(copyOf: SpeedController(gain: 8))    // good: version 3
            default: break
            }
            return true
        }
        #expect(exit == .completed)
        #expect(records[100].policyVersion == 1 && !records[100].usingFallback)
        #expect(records[200].policyVersion == 2 && records[200].interventions.policyFault)
        #expect(actions[200] == 0, "the NaN step sends the safe action")
        #expect(records[201].usingFallback && records[201].policyVersion == 1, "version 1 had been trusted")
        #expect(records[299].usingFallback && actions[201...299].allSatisfy { $0.isFinite && $0 != 0 })
        #expect(records[300].policyVersion == 3 && !records[300].usingFallback)
        #expect(session.policyFaults == 1 && session.policiesTaken == 3)
        #expect(session.step.safety.report.nonFiniteActions == 1)
    }

    @Test("SIGINT through the installed handler ends the loop at a step boundary with the motor stopped")
    func stopsOnSignal() throws {
        let motor = try MotorFixture(seed: 8)
        let session = session(motor)
        session.loop.stopsOnSignals = true
        #expect(StopSignal.installHandlers() == 0)
        StopSignal.clear()
        defer { StopSignal.clear() }
        var commandBeforeSignal = 0.0
        let exit = try session.run(steps: 1_000) { record in
            if record.timing.index == 199 {
                commandBeforeSignal = motor.io.motor.command
                // Process-directed, as from a terminal: the test runner's worker threads block SIGINT,
                // so another thread runs the handler; wait for it (it only sets the flag).
                kill(getpid(), SIGINT)
                let deadline = edge_monotonic_ns() + 1_000_000_000
                while StopSignal.received == 0 && edge_monotonic_ns() < deadline {}
            }
            return true
        }
        #expect(exit == .signal(SIGINT))
        #expect(StopSignal.name(StopSignal.received) == "SIGINT")
        #expect(session.loop.steps == 200)
        #expect(commandBeforeSignal != 0, "the motor was driven")
        #expect(motor.io.motor.command == 0, "and is stopped on the way out")
    }

    @Test("a loop that does not stop on signals ignores a recorded stop request")
    func ignoresSignalWhenAsked() throws {
        let loop = ControlLoop(clock: ManualClock(), periodNs: 1_000, stopsOnSignals: false)
        StopSignal.request(SIGTERM)
        defer { StopSignal.clear() }
        #expect(loop.run(steps: 10) { _ in true } == .completed)
        loop.stopsOnSignals = true
        #expect(loop.run(steps: 10) { _ in true } == .signal(SIGTERM))
    }
}
