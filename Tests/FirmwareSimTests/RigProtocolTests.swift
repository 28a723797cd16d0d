import Testing
import EdgeIO
import FirmwareSim

/// What every rig promises through the generic `Rig` protocol.
@Suite("Rig protocol")
struct RigProtocolTests {
    /// Resets by seed, round-trips the true state, and replays a trajectory from a saved state.
    func check<R: Rig>(_ make: () -> R) -> (sameSeedSame: Bool, seedsDiffer: Bool, replayExact: Bool) {
        let a = make(), b = make()
        var stateA = [Double](repeating: 0, count: R.stateSize)
        var stateB = [Double](repeating: 0, count: R.stateSize)
        a.reset(seed: 7)
        b.reset(seed: 7)
        stateA.withUnsafeMutableBufferPointer { a.trueState(into: $0) }
        stateB.withUnsafeMutableBufferPointer { b.trueState(into: $0) }
        let sameSeedSame = stateA == stateB
        b.reset(seed: 8)
        stateB.withUnsafeMutableBufferPointer { b.trueState(into: $0) }
        let seedsDiffer = stateA != stateB
        // b starts from a's state; both then take the same actions and must agree exactly.
        stateA.withUnsafeBufferPointer { b.reset(state: $0) }
        for k in 0..<30 {
            let action = k % 5 < 2 ? 0.7 : -0.4
            a.setAction(action)
            b.setAction(action)
            a.step()
            b.step()
        }
        stateA.withUnsafeMutableBufferPointer { a.trueState(into: $0) }
        stateB.withUnsafeMutableBufferPointer { b.trueState(into: $0) }
        return (sameSeedSame, seedsDiffer, stateA == stateB && a.lastReward == b.lastReward)
    }

    @Test("every rig resets deterministically by seed and replays exactly from a saved true state")
    func determinism() {
        let ideal = RigOptions(mode: .ideal)
        let pendulum = check { PendulumRig(options: ideal) }
        let motor = check { MotorRig(options: ideal) }
        let cartPole = check { CartPoleRig(options: ideal) }
        for result in [pendulum, motor, cartPole] {
            #expect(result.sameSeedSame && result.seedsDiffer && result.replayExact)
        }
    }

    @Test("observation, action and state sizes match the kinds' PlantIO layouts")
    func sizes() {
        typealias Drive = HardwarePWMDrive<SimPWMOutput>
        #expect(PendulumRig.observationSize == PendulumIO<SimChip, Drive>.observationSize)
        #expect(MotorRig.observationSize == MotorIO<SimChip, Drive>.observationSize)
        #expect(CartPoleRig.observationSize == CartPoleIO<SimChip, Drive>.observationSize)
        #expect([PendulumRig.kind, MotorRig.kind, CartPoleRig.kind] == RigKind.allCases)
        #expect([PendulumRig.stateSize, MotorRig.stateSize, CartPoleRig.stateSize] == [2, 4, 4])
    }

    @Test("ideal mode emits no edges; board mode emits one per count crossed")
    func idealEmitsNothing() throws {
        for mode in [RigMode.ideal, .board] {
            let rig = PendulumRig(options: RigOptions(mode: mode))
            rig.reset(theta: 0.5, thetaDot: 4)
            let request = try rig.board.chip.requestInputs([SimBoardPins.encoderA, SimBoardPins.encoderB],
                                                           flags: .edgeBoth, consumer: "t", eventBufferSize: 1024)
            let before = rig.shaftCount
            rig.setAction(0)
            rig.step()
            let buffer = UnsafeMutableBufferPointer<EdgeEvent>.allocate(capacity: 1024)
            defer { buffer.deallocate() }
            let events = try request.readEvents(into: buffer)
            let crossed = Int(abs(rig.shaftCount - before))
            #expect(crossed > 50)
            #expect(events == (mode == .ideal ? 0 : crossed))
        }
    }
}
