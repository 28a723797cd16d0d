import CEdgeSys
import EdgeCore
import EdgeIO
import EdgeLearning
import EdgeRuntime
import FirmwareSim
import Foundation
import Testing

// MARK: - A FirmwareSim rig behind a chip that behaves like a real one

/// One line request as the rig's chip saw it.
struct RequestedLines: Equatable {
    var offsets: [UInt32]
    var flags: LineFlags
    var output: Bool
    var consumer: String
}

/// A FirmwareSim rig seen through a `LineChip` that behaves like a kernel GPIO chip on a board: time
/// is CLOCK_MONOTONIC (the rig's physics are run up to the wall clock whenever the chip's time is
/// read), event timestamps are on that clock, and the chip carries a real board's label. Every
/// request is recorded so a test can check the lines and flags the board file asked for.
final class WallClockSimChip<R: Rig>: LineChip {
    typealias Request = WallClockRequest
    let rig: R
    let physics: RigClock<R>
    /// CLOCK_MONOTONIC minus the rig's virtual time.
    let offsetNs: Int64
    let name = "gpiochip0"
    let label: String
    let lineCount: Int
    private(set) var requests: [RequestedLines] = []
    private(set) var closes = 0

    init(rig: R, label: String, lineCount: Int) {
        self.rig = rig
        self.label = label
        self.lineCount = lineCount
        physics = RigClock(rig: rig, chargesComputeTime: false)
        offsetNs = edge_monotonic_ns() - rig.board.clock.nowNs
    }

    /// Now; the plant has moved up to it.
    func nowNs() -> Int64 {
        let now = edge_monotonic_ns()
        _ = physics.sleep(untilNs: now - offsetNs)
        return now
    }

    /// The rig's virtual time that corresponds to now (after running the physics to it).
    func simNowNs() -> Int64 { nowNs() - offsetNs }

    func requestInputs(_ offsets: [UInt32], flags: LineFlags, consumer: String,
                       eventBufferSize: Int) throws(LineError) -> WallClockRequest {
        requests.append(RequestedLines(offsets: offsets, flags: flags, output: false, consumer: consumer))
        let inner = try rig.board.chip.requestInputs(offsets, flags: flags, consumer: consumer, eventBufferSize: eventBufferSize)
        return WallClockRequest(inner: inner, offsetNs: offsetNs)
    }

    func requestOutputs(_ offsets: [UInt32], defaults: [Bool], flags: LineFlags,
                        consumer: String) throws(LineError) -> WallClockRequest {
        requests.append(RequestedLines(offsets: offsets, flags: flags, output: true, consumer: consumer))
        let inner = try rig.board.chip.requestOutputs(offsets, defaults: defaults, flags: flags, consumer: consumer)
        return WallClockRequest(inner: inner, offsetNs: offsetNs)
    }

    func close() { closes += 1 }
}

/// A request on the rig's chip whose event timestamps are moved onto CLOCK_MONOTONIC.
struct WallClockRequest: LineRequest {
    let inner: SimLineRequest
    let offsetNs: Int64
    var offsets: [UInt32] { inner.offsets }
    func getValue(_ offset: UInt32) throws(LineError) -> Bool { try inner.getValue(offset) }
    func getValues() throws(LineError) -> UInt64 { try inner.getValues() }
    func setValue(_ offset: UInt32, _ value: Bool) throws(LineError) { try inner.setValue(offset, value) }
    func waitEvents(timeoutNs: Int64) throws(LineError) -> Bool { try inner.waitEvents(timeoutNs: timeoutNs) }
    func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(LineError) -> Int {
        let n = try inner.readEvents(into: buffer)
        for i in 0..<n { buffer[i].timestampNs += offsetNs }
        return n
    }
    func release() { inner.release() }
}

/// Opens the wall-clock chip by its label, as libgpiod opens a board's chip.
struct WallClockBackend<R: Rig>: LineBackend {
    let chip: WallClockSimChip<R>
    func openChip(label: String) throws(LineError) -> WallClockSimChip<R> {
        guard label == chip.label else { throw .noSuchChip(chip: label) }
        return chip
    }
    func openChip(path: String) throws(LineError) -> WallClockSimChip<R> { throw .noSuchChip(chip: path) }
}

/// The PWM pin of a board drives the motor: every write goes to the sysfs channel (a fake
/// /sys/class/pwm tree here) and to the rig's simulated PWM input, so the rig moves as the motor would.
struct WiredPWMOutput: PWMOutput {
    let sysfs: SysfsPWMOutput
    let motor: SimPWMOutput
    var name: String { sysfs.name }
    func setPeriodNs(_ periodNs: Int64) throws(LineError) {
        try sysfs.setPeriodNs(periodNs)
        try motor.setPeriodNs(periodNs)
    }
    func setDutyCycleNs(_ dutyNs: Int64) throws(LineError) {
        try sysfs.setDutyCycleNs(dutyNs)
        try motor.setDutyCycleNs(dutyNs)
    }
    func setEnabled(_ enabled: Bool) throws(LineError) {
        try sysfs.setEnabled(enabled)
        try motor.setEnabled(enabled)
    }
}

struct WiredPWMChannels: PWMChannelOpener {
    let sysfs: SysfsPWMChannels
    let motor: SimPWMOutput
    func open(_ pwm: HardwarePWM, channel: Int) throws(LineError) -> WiredPWMOutput {
        WiredPWMOutput(sysfs: try sysfs.open(pwm, channel: channel), motor: motor)
    }
}

/// A fake /sys/class/pwm with the rpi4's controller as pwmchip1 (pwmchip0 is something else) and its
/// channel 0 exported.
struct FakeSysfsPWM {
    let root: String
    var channel: String { root + "/pwmchip1/pwm0" }

    init() throws {
        root = NSTemporaryDirectory() + "edge-ctl-board-pwm-" + UUID().uuidString
        let files = FileManager.default
        for (number, controller) in [0: "fe00b840.mailbox/raspberrypi-pwm", 1: "fe20c000.pwm"] {
            try files.createDirectory(atPath: root + "/pwmchip\(number)", withIntermediateDirectories: true)
            try files.createSymbolicLink(atPath: root + "/pwmchip\(number)/device", withDestinationPath: "../../../" + controller)
        }
        try files.createDirectory(atPath: root + "/pwmchip1/pwm0", withIntermediateDirectories: true)
        for file in ["period", "duty_cycle", "enable"] { files.createFile(atPath: root + "/pwmchip1/pwm0/" + file, contents: nil) }
    }

    func text(_ file: String) -> String { (try? String(contentsOfFile: channel + "/" + file, encoding: .utf8)) ?? "?" }
    /// Every duty cycle written, in order (a regular file keeps each write of the open descriptor).
    var dutyWrites: [Int64] { text("duty_cycle").split(separator: "\n").compactMap { Int64($0) } }
    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// The package's boards/NAME.board.
func shippedBoard(_ name: String) throws -> BoardDescription {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("boards/\(name).board").path
    return try BoardFileParser.parse(try String(contentsOfFile: path, encoding: .utf8), path: path)
}

/// What one step looked like from the callback.
struct SeenStep {
    var index: Int
    var deadlineNs: Int64
    var observation: [Float]
    var action: Float
    var expected: Float
    var reward: Float
    var interventions: SafetyInterventions
    var motorDutyNs: Int64
    var directionHigh: Bool
}

/// The simulated pendulum on the rpi4 wiring, a fake sysfs PWM, and a fixed random policy.
struct PendulumBench {
    let rig = PendulumRig(options: RigOptions(mode: .board))
    let chip: WallClockSimChip<PendulumRig>
    let sysfs: FakeSysfsPWM
    let board: BoardDescription
    let policy: GaussianPolicy<3, 1>

    init() throws {
        board = try shippedBoard("rpi4")
        chip = WallClockSimChip(rig: rig, label: board.chipLabel, lineCount: board.chipLines)
        sysfs = try FakeSysfsPWM()
        var rng = RandomSource(seed: 11)
        policy = GaussianPolicy(observationBounds: PendulumPlant.observationBounds, actionLow: [-1], actionHigh: [1],
                                initialLogStd: 0, hiddenGain: 1, outputScale: 1, maxLanes: 0, rng: &rng)
    }

    var pwm: WiredPWMChannels { WiredPWMChannels(sysfs: SysfsPWMChannels(root: sysfs.root), motor: rig.board.pwm) }

    /// Runs the policy; `during` may act on the rig after each step (return false to stop).
    func run(_ options: BoardRunOptions, during: (Int) -> Bool = { _ in true }) throws(BoardRunError)
        -> (BoardRunReport, [SeenStep]) {
        var seen: [SeenStep] = []
        var expected: Float = 0
        let report = try runPolicyOnBoard(policy, task: PendulumPlant.self, periodNs: 50_000_000, board: board,
                                          backend: WallClockBackend(chip: chip), pwm: pwm, options: options) { step in
            policy.mean(step.observation.baseAddress!, into: &expected)
            seen.append(SeenStep(index: step.index, deadlineNs: step.timing.deadlineNs, observation: Array(step.observation),
                                 action: step.action[0], expected: expected, reward: step.reward,
                                 interventions: step.interventions, motorDutyNs: rig.board.pwm.dutyNs,
                                 directionHigh: rig.board.chip.outputLevel(23)))
            return during(step.index)
        }
        return (report, seen)
    }

    /// Everything a stopped board must show: duty 0 and PWM disabled on both sides, direction low,
    /// every rig line given back.
    func expectSafeState(_ comment: Comment) {
        #expect(rig.board.pwm.dutyNs == 0 && !rig.board.pwm.isEnabled, comment)
        #expect(sysfs.dutyWrites.last == 0, comment)
        #expect(sysfs.text("enable") == "0\n", comment)
        #expect(!rig.board.chip.outputLevel(23), comment)
        #expect([17, 27, 23, 24].allSatisfy { !rig.board.chip.isRequested($0) }, comment)
    }
}

func defaultBoardOptions(steps: Int) -> BoardRunOptions {
    var options = BoardRunOptions()
    options.steps = steps
    options.settleNs = 100_000_000
    return options
}

// MARK: - Tests

@Suite("A policy on a board's rig (rpi4 wiring, FirmwareSim pendulum on the wall clock)", .serialized)
struct BoardRunTests {
    @Test("the lines come from the board file, the policy's actions reach the PWM duty and direction, the outputs end safe")
    func pendulumRun() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        let (report, seen) = try bench.run(defaultBoardOptions(steps: 8))

        // rpi4.board: encoder a/b on pins 11/13 (GPIO 17/27) pull-up, e-stop pin 18 (GPIO 24)
        // active-low pull-up, direction pin 16 (GPIO 23); edges on every input.
        #expect(bench.chip.requests == [
            RequestedLines(offsets: [17, 27], flags: [.biasPullUp, .edgeRising, .edgeFalling], output: false, consumer: "edge-ctl encoder"),
            RequestedLines(offsets: [24], flags: [.activeLow, .biasPullUp, .edgeRising, .edgeFalling], output: false, consumer: "edge-ctl estop"),
            RequestedLines(offsets: [23], flags: [], output: true, consumer: "edge-ctl motor"),
        ])
        #expect(bench.chip.closes == 1)
        #expect(report.board == "rpi4" && report.rig == .pendulum && report.chipName == "gpiochip0")
        #expect(report.pwmChannel == "pwmchip1/pwm0", "the pwmchip whose device is fe20c000.pwm, not pwmchip0")
        #expect(report.periodNs == 50_000_000 && report.exit == .completed)
        #expect(report.steps == 8 && seen.count == 8 && report.control.steps == 8 && report.control.safety.steps == 8)
        #expect(report.control.safety.safeActionSteps == 0 && report.control.safety.firstFault == nil)

        // Homed hanging down: θ = π, at rest.
        let first = try #require(seen.first)
        #expect(abs(first.observation[0] + 1) < 1e-4 && abs(first.observation[1]) < 4e-3 && abs(first.observation[2]) < 1e-3,
                "\(first.observation)")
        var rewardSum = 0.0
        for s in seen {
            // Deterministic action = the policy's mean (no slew limit on the pendulum, already in [-1, 1]).
            // The loop's policy is a mailbox copy specialized in EdgeRuntime, `expected` comes from the
            // test module's specialization: since the eight-chain Dense kernel and the rational tanh the
            // two differ by a few ulp (seen: 1-3 ulp of 0.29; not explained yet). 1e-6 relative is far
            // below any wrong action (a wrong observation or weight moves it by 1e-2 or more).
            #expect(abs(s.action - s.expected) <= 1e-6 * max(abs(s.expected), 1e-3),
                    "step \(s.index): \(s.action) vs \(s.expected)")
            // Duty = |a| × 50 µs period, direction high for a negative action: on the motor's input at once.
            #expect(s.motorDutyNs == Int64((Double(abs(s.action)) * 50_000).rounded()), "step \(s.index)")
            #expect(s.directionHigh == (s.action < 0), "step \(s.index)")
            let reward = s.observation.withUnsafeBufferPointer { o in
                withUnsafePointer(to: s.action) { PendulumPlant.reward(observation: o.baseAddress!, action: $0) }
            }
            #expect(s.reward == reward)
            rewardSum += Double(reward)
            #expect((s.deadlineNs - first.deadlineNs) % 50_000_000 == 0)
        }
        #expect(abs(report.rewardSum - rewardSum) < 1e-9)
        // Each step's reward is -(θ² + 0.1 θ̇² + 0.001 u²) with |θ| <= π, |θ̇| <= 8, |u| <= 2: above -16.3.
        #expect(report.rewardSum < -8 * 6, "near θ = π (hanging) each step costs about π²; homed at 0 it would be near 0")
        #expect(report.rewardSum > -8 * 16.3)
        #expect(seen.contains { abs($0.action) > 0.05 }, "the fixed policy pushes the pendulum")
        #expect(seen.contains { abs($0.observation[2]) > 1e-3 }, "and the encoder sees it move")

        // The sysfs channel got period 50 µs, the same duties as the motor input, then 0 and disabled.
        #expect(bench.sysfs.text("period") == "50000\n")
        let nonZero = bench.sysfs.dutyWrites.filter { $0 != 0 }
        #expect(nonZero.last == seen.last(where: { $0.action != 0 })?.motorDutyNs)
        bench.expectSafeState("after a completed run")
        #expect(report.control.latencyP50Ns <= report.control.latencyMaxNs && report.control.stepTimeMaxNs > 0)
        #expect(report.control.stepTimeBuckets.reduce(0) { $0 + $1.count } == 8)
    }

    @Test("pressing the e-stop puts the safe action out at the next step, within one period")
    func eStop() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        var pressedAtNs: Int64 = 0
        let (report, seen) = try bench.run(defaultBoardOptions(steps: 10)) { index in
            if index == 3 {
                bench.rig.board.faults.eStop = true  // the rig keeps the switch closed and cuts its drive
                let now = bench.chip.simNowNs()
                bench.rig.board.chip.drive(24, to: false, atNs: now)
                pressedAtNs = now + bench.chip.offsetNs
            }
            return true
        }
        #expect(report.steps == 10)
        #expect(seen[..<4].allSatisfy { !$0.interventions.contains(.eStop) })
        let firstStopped = try #require(seen.first { $0.interventions.contains(.eStop) })
        #expect(firstStopped.index == 4, "the next step sees it (debounce 5 ms < one 50 ms period)")
        #expect(firstStopped.deadlineNs - pressedAtNs <= 50_000_000 && firstStopped.deadlineNs > pressedAtNs)
        #expect(seen[4...].allSatisfy { $0.interventions.contains(.eStop) && $0.action == 0 && $0.motorDutyNs == 0 })
        #expect(seen[..<4].contains { $0.motorDutyNs != 0 }, "the motor was driven before the press")
        #expect(report.control.safety.eStopSteps == 6 && report.control.safety.safeActionSteps == 6)
        #expect(report.control.safety.firstFault == .eStop && report.control.safety.firstFaultStep == 4)
        bench.expectSafeState("after an e-stop")
    }

    @Test("a SIGINT-style stop ends the run at a step boundary with duty 0, PWM off and the lines released")
    func stopSignal() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        var options = defaultBoardOptions(steps: 50)
        options.stopsOnSignals = true
        StopSignal.clear()
        defer { StopSignal.clear() }
        let (report, seen) = try bench.run(options) { index in
            if index == 2 { StopSignal.request(2) }
            return true
        }
        #expect(report.exit == .signal(2))
        #expect(report.steps == 3 && seen.count == 3 && report.control.steps == 3)
        #expect(seen.contains { $0.motorDutyNs != 0 }, "the motor was driven before the stop")
        bench.expectSafeState("after SIGINT")
    }

    @Test("a direction line taken by another program fails with EBUSY naming it, and the PWM is left disabled")
    func busyLine() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        let holder = try bench.rig.board.chip.requestOutputs([23], defaults: [false], flags: [], consumer: "other-program")
        defer { holder.release() }
        var failure: BoardRunError?
        do { _ = try bench.run(defaultBoardOptions(steps: 3)) } catch { failure = error }
        guard case .line(let error) = failure else {
            Issue.record("expected a line error, got \(String(describing: failure))")
            return
        }
        #expect(error == .lineBusy(chip: "edge-sim", offset: 23, consumer: "other-program"))
        #expect(bench.chip.requests.count == 3 && bench.chip.requests[2].offsets == [23], "failed at the direction output")
        #expect(bench.rig.board.pwm.dutyNs == 0 && !bench.rig.board.pwm.isEnabled)
        #expect(bench.sysfs.text("enable") == "0\n")
        #expect(bench.rig.board.chip.isRequested(23), "the other program keeps its line")
    }

    @Test("a pendulum that is still swinging is refused at homing, before the loop drives anything")
    func notAtRest() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        bench.rig.reset(theta: Double.pi / 2, thetaDot: 0)  // horizontal: it falls as soon as time runs
        var failure: BoardRunError?
        do { _ = try bench.run(defaultBoardOptions(steps: 3)) } catch { failure = error }
        guard case .setup(let text) = failure else {
            Issue.record("expected a setup error, got \(String(describing: failure))")
            return
        }
        #expect(text.hasPrefix("the pendulum encoder moved ") && text.contains("the pendulum must hang still"))
        #expect(bench.sysfs.dutyWrites.allSatisfy { $0 == 0 }, "no drive before homing succeeded")
        bench.expectSafeState("after refusing to start")
    }

    @Test("a board that wires the rig's PWM pin to no hardware channel is refused with the reason")
    func noHardwarePWM() throws {
        let bench = try PendulumBench()
        defer { bench.sysfs.remove() }
        var board = bench.board
        board.pwm?.channels.removeAll { $0.pin == 12 }
        var failure: BoardRunError?
        do {
            _ = try runPolicyOnBoard(bench.policy, task: PendulumPlant.self, periodNs: 50_000_000, board: board,
                                     backend: WallClockBackend(chip: bench.chip), pwm: bench.pwm,
                                     options: defaultBoardOptions(steps: 1))
        } catch { failure = error }
        guard case .setup(let text) = failure else {
            Issue.record("expected a setup error, got \(String(describing: failure))")
            return
        }
        #expect(text == "board rpi4: the pendulum rig's pwm pin 12 has no hardware PWM channel (hardware PWM: channel 1 = pin 35); wire the motor driver's PWM input to a hardware PWM pin and change the board file: software PWM is not used for a motor (a stalled loop could leave the pin high, full speed)")
        #expect(bench.chip.requests.isEmpty, "nothing was requested")
    }

    @Test("--seconds rounds up to whole control periods")
    func secondsToSteps() {
        var options = BoardRunOptions()
        #expect(options.stepCount(periodNs: 50_000_000, episodeSteps: 200) == 200)
        options.seconds = 1.01
        #expect(options.stepCount(periodNs: 50_000_000, episodeSteps: 200) == 21)
        options.seconds = 0.001
        #expect(options.stepCount(periodNs: 10_000_000, episodeSteps: 200) == 1)
        options.steps = 7
        #expect(options.stepCount(periodNs: 10_000_000, episodeSteps: 200) == 7)
    }

    @Test("a trained checkpoint runs on the board: its rig's period, its policy on the PWM, safe at the end")
    func checkpointOnBoard() throws {
        try withTemporaryDirectory { dir in
            var training = TrainingOptions()
            training.seed = 5
            training.maxRealSteps = 200
            training.evaluationEpisodes = 1
            training.dataDirectory = dir
            var h = Hyperparameters()
            h.ppoIterationsPerEpisode = 1
            _ = try trainOnSimulator(rig: .pendulum, knownReward: false, options: training, hyperparameters: h,
                                     observer: CurveRecorder())
            let bench = try PendulumBench()
            defer { bench.sysfs.remove() }
            let report = try runCheckpointOnBoard(directory: dir, rig: .pendulum, seed: 5, board: bench.board,
                                                  backend: WallClockBackend(chip: bench.chip), pwm: bench.pwm,
                                                  options: defaultBoardOptions(steps: 4))
            #expect(report.rig == .pendulum && report.periodNs == 50_000_000 && report.steps == 4)
            #expect(report.exit == .completed && report.control.safety.steps == 4)
            #expect(report.rewardSum < 0 && report.rewardSum > -4 * 16.3)
            #expect(bench.sysfs.dutyWrites.contains { $0 != 0 }, "the trained policy drove the motor")
            bench.expectSafeState("after a checkpoint run")

            var failure: BoardRunError?
            do throws(BoardRunError) {
                _ = try runCheckpointOnBoard(directory: dir + "/missing", rig: .pendulum, seed: 5, board: bench.board,
                                             backend: WallClockBackend(chip: bench.chip), pwm: bench.pwm,
                                             options: defaultBoardOptions(steps: 1))
            } catch { failure = error }
            guard case .training(.file) = failure else {
                Issue.record("expected a checkpoint file error, got \(String(describing: failure))")
                return
            }
        }
    }

    @Test("a machine without the board's chip gives the boards-probe message")
    func missingChip() throws {
        let board = try shippedBoard("rpi4")
        #expect(boardChipFailureMessage(board: board, error: .noSuchChip(chip: "pinctrl-bcm2711"), chips: [])
                == "error: board rpi4: no GPIO chip 'pinctrl-bcm2711' (ENOENT): check the label with gpiodetect and the board file; this machine has no /dev/gpiochip* devices (no GPIO hardware, or a container started without them): run on the board or use --sim")
        #expect(boardChipFailureMessage(board: board, error: .noSuchChip(chip: "pinctrl-bcm2711"), chips: ["pinctrl-rp1 (/dev/gpiochip0)"])
                .hasSuffix("; chips found: pinctrl-rp1 (/dev/gpiochip0): pick the board file with one of these labels (edge-ctl boards)"))
        let rig = PendulumRig(options: RigOptions(mode: .board))
        let chip = WallClockSimChip(rig: rig, label: "edge-sim", lineCount: 54)
        var rng = RandomSource(seed: 1)
        let policy = GaussianPolicy<3, 1>(observationBounds: [1, 1, 8], actionLow: [-1], actionHigh: [1], initialLogStd: 0,
                                          hiddenGain: 1, outputScale: 1, maxLanes: 0, rng: &rng)
        var failure: BoardRunError?
        do {
            _ = try runPolicyOnBoard(policy, task: PendulumPlant.self, periodNs: 50_000_000, board: board,
                                     backend: WallClockBackend(chip: chip), pwm: SysfsPWMChannels(root: "/nonexistent"),
                                     options: defaultBoardOptions(steps: 1))
        } catch { failure = error }
        guard case .chip(let name, let error) = failure else {
            Issue.record("expected a chip error, got \(String(describing: failure))")
            return
        }
        #expect(name == "rpi4" && error == .noSuchChip(chip: "pinctrl-bcm2711"))
    }
}
