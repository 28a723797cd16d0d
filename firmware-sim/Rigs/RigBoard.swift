import EdgeIO

/// The simulated board under a rig: the chip, the motor's PWM output and direction line, the
/// e-stop, the rig's encoders and switches, and the fault injector. It merges every edge source
/// (encoder crossings, switch crossings, glitches, overflow bursts) in time order onto the chip.
///
/// Mutable state is `@exclusivity(unchecked)`: an instance belongs to one thread, and on the host the
/// dynamic exclusivity checks otherwise took three quarters of a simulated control step.
public final class RigBoard {
    public let clock: SimClock
    public let chip: SimChip
    /// The motor drive's hardware PWM channel (pwmchip0/pwm0).
    public let pwm: SimPWMOutput
    /// Faults to inject from the next step on.
    @exclusivity(unchecked) public var faults = RigFaults()
    public let mode: RigMode

    @exclusivity(unchecked) var encoders: [SimEncoderTrack] = []
    @exclusivity(unchecked) var switches: [SimSwitchTrack] = []
    /// Glitch generator per encoder line: next glitch start, and end of the glitch in progress.
    @exclusivity(unchecked) var glitchLines: [UInt32] = []
    @exclusivity(unchecked) var glitchNextNs: [Int64] = []
    @exclusivity(unchecked) var glitchEndNs: [Int64] = []
    @exclusivity(unchecked) var glitchRate = 0.0
    @exclusivity(unchecked) var burstRemaining = 0
    @exclusivity(unchecked) var burstNextNs = Int64.max
    @exclusivity(unchecked) var stuckLine: UInt32? = nil
    @exclusivity(unchecked) var random: SimRandom

    init(options: RigOptions) {
        clock = SimClock()
        chip = SimChip(label: SimBoardPins.chipLabel, lineCount: SimBoardPins.lineCount, api: options.api,
                       clock: clock, seed: options.faultSeed)
        chip.irqLatencyNs = options.irqLatencyNs
        pwm = SimPWMOutput(name: "pwmchip\(SimBoardPins.pwmChip)/pwm\(SimBoardPins.pwmChannel)")
        mode = options.mode
        random = SimRandom(seed: options.faultSeed ^ 0x5EED)
        chip.presetLevel(SimBoardPins.eStop, true)
    }

    /// A backend that opens this board's chip by label ("edge-sim") or as /dev/gpiochip0.
    public var backend: SimBackend { SimBackend(chips: [chip]) }

    func addEncoder(_ track: SimEncoderTrack) {
        encoders.append(track)
        for line in [track.a, track.b] {
            glitchLines.append(line)
            glitchNextNs.append(Int64.max)
            glitchEndNs.append(Int64.max)
        }
    }

    func addSwitch(_ track: SimSwitchTrack) { switches.append(track) }

    /// The normalized drive command the board's outputs ask for: duty × (direction high ? -1 : 1),
    /// or 0 while the e-stop cuts the drive.
    func actuatorCommand() -> Double {
        if faults.eStop { return 0 }
        let duty = pwm.dutyFraction
        return chip.outputLevel(SimBoardPins.direction) ? -duty : duty
    }

    /// Places encoder `index` at `position` and presets its lines without edges (reset).
    func placeEncoder(_ index: Int, at position: Double) {
        let (a, b) = encoders[index].place(at: position)
        chip.presetLevel(encoders[index].a, a)
        chip.presetLevel(encoders[index].b, b)
    }

    func placeSwitch(_ index: Int, at position: Double) {
        chip.presetLevel(switches[index].line, switches[index].place(at: position))
    }

    /// Applies `faults` at the start of a step: chip settings, stuck line, e-stop line, bursts, glitches.
    func beginStep(atNs startNs: Int64) {
        guard mode == .board else { return }
        chip.missProbability = faults.dropEdgeProbability
        chip.extraLatencyNs = faults.latencySpikeNs
        if stuckLine != faults.stuckLine {
            if let old = stuckLine { chip.setStuck(old, false, atNs: startNs) }
            if let new = faults.stuckLine { chip.setStuck(new, true, atNs: startNs) }
            stuckLine = faults.stuckLine
        }
        if chip.plantLevel(SimBoardPins.eStop) == faults.eStop {
            chip.drive(SimBoardPins.eStop, to: !faults.eStop, atNs: startNs)
        }
        if faults.overflowBurstEdges > 0 && !encoders.isEmpty {
            burstRemaining = faults.overflowBurstEdges + (faults.overflowBurstEdges & 1)
            burstNextNs = startNs + 1_000
            faults.overflowBurstEdges = 0
        }
        if faults.glitchRatePerSecond != glitchRate {
            glitchRate = faults.glitchRatePerSecond
            for i in glitchNextNs.indices {
                glitchNextNs[i] = saturatingAdd(startNs, random.exponentialNs(ratePerSecond: glitchRate))
            }
        }
    }

    /// Moves virtual time to `timeNs` and runs the chip's interrupt threads due by then, as a kernel does
    /// while time passes: an application's read then only copies its queue out, as on a board (the
    /// read still settles first, so a chip driven without a rig stays exact).
    func advanceClock(to timeNs: Int64) {
        clock.advance(to: timeNs)
        chip.settle()
    }

    /// Emits every edge due up to `timeNs`, in time order.
    func emit(upTo timeNs: Int64) {
        guard mode == .board else { return }
        while true {
            var bestNs = Int64.max
            var source = 0
            var index = 0
            for i in encoders.indices where encoders[i].nextEdgeNs < bestNs {
                bestNs = encoders[i].nextEdgeNs; source = 1; index = i
            }
            for i in switches.indices where switches[i].nextEdgeNs < bestNs {
                bestNs = switches[i].nextEdgeNs; source = 2; index = i
            }
            for i in glitchLines.indices {
                if glitchEndNs[i] < bestNs { bestNs = glitchEndNs[i]; source = 3; index = i }
                if glitchNextNs[i] < bestNs { bestNs = glitchNextNs[i]; source = 4; index = i }
            }
            if burstNextNs < bestNs { bestNs = burstNextNs; source = 5 }
            if bestNs > timeNs { return }
            switch source {
            case 1:
                chip.toggle(encoders[index].takeEdge(), atNs: bestNs)
            case 2:
                chip.drive(switches[index].line, to: switches[index].takeEdge(), atNs: bestNs)
            case 3:
                chip.toggle(glitchLines[index], atNs: bestNs)
                glitchEndNs[index] = Int64.max
            case 4:
                chip.toggle(glitchLines[index], atNs: bestNs)
                glitchEndNs[index] = bestNs + faults.glitchWidthNs
                glitchNextNs[index] = saturatingAdd(bestNs, random.exponentialNs(ratePerSecond: glitchRate))
            default:
                chip.toggle(encoders[0].a, atNs: bestNs)
                burstRemaining -= 1
                burstNextNs = burstRemaining > 0 ? bestNs + 1_000 : Int64.max
            }
        }
    }

    /// Ends glitches and bursts in progress (at a reset the lines are placed afresh).
    func clearTransients() {
        for i in glitchLines.indices {
            glitchEndNs[i] = Int64.max
        }
        burstRemaining = 0
        burstNextNs = Int64.max
    }
}

@inline(__always)
func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? Int64.max : sum
}
