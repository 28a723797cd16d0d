import Testing
import EdgeIO
import FirmwareSim

/// Each fault a rig injects is seen by the sensor layer: a counter or flag in `PlantHealth`.
@Suite("Fault detection")
struct FaultDetectionTests {
    typealias IO = PendulumIO<SimChip, HardwarePWMDrive<SimPWMOutput>>

    /// A pendulum spinning near its top speed (torque follows the speed), homed, with `clean` steps run.
    func spinningPendulum(api: SimLineAPI = .v2, clean: Int = 20) throws -> (PendulumRig, IO) {
        let rig = PendulumRig(options: RigOptions(mode: .board, api: api))
        rig.reset(theta: 0.3, thetaDot: 7)
        let io = try IO(chip: rig.board.chip, pwm: try HardwarePWMDrive(output: rig.board.pwm),
                        pins: SimBoardPins.plantPins(for: .pendulum))
        try io.home(angle: rig.theta)
        try run(rig, io, steps: clean)
        return (rig, io)
    }

    func run(_ rig: PendulumRig, _ io: IO, steps: Int) throws {
        for _ in 0..<steps {
            var action: Float = rig.thetaDot >= 0 ? 1 : -1
            try withUnsafePointer(to: &action) { try io.act(UnsafeBufferPointer(start: $0, count: 1)) }
            try rig.step(pollEveryNs: 2_000_000) { () throws(LineError) in try io.poll() }
        }
    }

    @Test("without faults nothing is reported, on v1 and on v2")
    func clean() throws {
        for api in [SimLineAPI.v1, .v2] {
            let (rig, io) = try spinningPendulum(api: api, clean: 200)
            #expect(io.health.isHealthy, "\(io.health)")
            #expect(abs(io.encoder.position - rig.theta) <= 2 * Double.pi / 2048)
            #expect(abs(rig.thetaDot) > 5, "the pendulum keeps spinning")
        }
    }

    @Test("noise glitches are counted as glitches and do not move the count")
    func noise() throws {
        let (rig, io) = try spinningPendulum()
        rig.board.faults.glitchRatePerSecond = 200
        try run(rig, io, steps: 20)
        #expect(io.health.encoder.glitches > 100)
        #expect(abs(io.encoder.position - rig.theta) <= 2 * Double.pi / 2048)
    }

    @Test("dropped edges show as level mismatches at the next level check")
    func droppedEdges() throws {
        let (rig, io) = try spinningPendulum()
        rig.board.faults.dropEdgeProbability = 0.01
        try run(rig, io, steps: 20)
        #expect(rig.board.chip.missedEdges > 5)
        #expect(io.health.encoder.levelMismatches > 0)
    }

    @Test("a stuck encoder line shows as a run of events on the other line")
    func stuckLine() throws {
        let (rig, io) = try spinningPendulum()
        rig.board.faults.stuckLine = SimBoardPins.encoderA
        try run(rig, io, steps: 5)
        #expect(io.health.encoder.stuckRuns > 0)
    }

    @Test("an event burst that overflows the queue shows as sequence gaps and a full queue on v2")
    func overflowV2() throws {
        let (rig, io) = try spinningPendulum(api: .v2)
        rig.board.faults.overflowBurstEdges = 60
        try run(rig, io, steps: 2)
        #expect(rig.board.chip.overflowDrops > 0)
        #expect(io.health.encoder.sequenceGaps == rig.board.chip.overflowDrops)
        #expect(io.health.encoder.fullQueueReads > 0)
    }

    @Test("an event burst that overflows the queue shows as a full queue read on v1")
    func overflowV1() throws {
        let (rig, io) = try spinningPendulum(api: .v1)
        rig.board.faults.overflowBurstEdges = 40
        try run(rig, io, steps: 2)
        #expect(rig.board.chip.overflowDrops > 0)
        #expect(io.health.encoder.fullQueueReads > 0)
        #expect(io.health.encoder.sequenceGaps == 0, "v1 has no sequence numbers")
    }

    @Test("a latency spike shows as late events")
    func latencySpike() throws {
        let (rig, io) = try spinningPendulum()
        rig.board.faults.latencySpikeNs = 5_000_000
        try run(rig, io, steps: 2)
        #expect(io.health.encoder.lateEvents > 0)
        rig.board.faults.latencySpikeNs = 0
        try run(rig, io, steps: 2)
        #expect(io.health.encoder.lateEvents > 0, "counters keep the history until the next homing")
    }

    @Test("the e-stop is reported, cuts the drive, and its release is reported too")
    func eStop() throws {
        let (rig, io) = try spinningPendulum()
        rig.board.faults.eStop = true
        try run(rig, io, steps: 2)
        #expect(io.health.eStopActive)
        #expect(io.motor.command == 0, "the sensor layer sends the safe action")
        #expect(rig.torque == 0, "the rig's drive is cut")
        rig.board.faults.eStop = false
        try run(rig, io, steps: 2)
        #expect(!io.health.eStopActive)
        #expect(io.health.eStopChanges == 2)
        #expect(rig.torque != 0)
    }
}
