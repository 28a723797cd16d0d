import EdgeRuntime
import Foundation
import Testing

/// examples/tiny_plant.py, the standard-library-only test plant.
let tinyPlantPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("examples/tiny_plant.py").path

/// python3 on PATH, if any.
let python3Path: String? = {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = String(dir) + "/python3"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

/// `exec:` address of the tiny plant with `arguments`.
func tinyPlant(_ arguments: String = "") -> PlantAddress {
    .exec(command: "'\(python3Path ?? "python3")' '\(tinyPlantPath)' \(arguments)")
}

/// Runs `body` and returns the error it threw (nil if none).
func plantFailure(_ body: () throws -> Void) -> ExternalPlantError? {
    do { try body(); return nil } catch let error as ExternalPlantError { return error } catch {
        Issue.record("not an ExternalPlantError: \(error)")
        return nil
    }
}

/// The fault of a handshake, read line by line from `text`.
func handshakeFault(_ text: String) -> ExternalPlantError.Fault? {
    var parser = HandshakeParser()
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let bytes = Array(line.utf8)
        let result: Result<Bool, ExternalPlantError.Fault> = bytes.withUnsafeBufferPointer { b in
            do throws(ExternalPlantError.Fault) { return .success(try parser.consume(b)) } catch { return .failure(error) }
        }
        switch result {
        case .failure(let fault): return fault
        case .success(true): return nil
        case .success(false): continue
        }
    }
    return .badHandshake("test: no 'ready'")
}

func parseHandshake(_ text: String) -> PlantDescription? {
    var parser = HandshakeParser()
    for line in text.split(separator: "\n") {
        let done = Array(line.utf8).withUnsafeBufferPointer { b in (try? parser.consume(b)) }
        guard let done else { return nil }
        if done { return parser.description }
    }
    return nil
}

/// Parses a step reply; the observation has `count` values.
func stepReply(_ text: String, count: Int) -> Result<([Float], Float, Bool, Bool), ExternalPlantError.Fault> {
    var obs = [Float](repeating: -99, count: count)
    return Array(text.utf8).withUnsafeBufferPointer { b in
        obs.withUnsafeMutableBufferPointer { o in
            do throws(ExternalPlantError.Fault) {
                let (r, d, t) = try PlantProtocol.parseStepReply(b, count: count, into: o.baseAddress!)
                return .success((Array(o), r, d, t))
            } catch {
                return .failure(error)
            }
        }
    }
}

func stepFault(_ text: String, count: Int = 3) -> ExternalPlantError.Fault? {
    if case .failure(let f) = stepReply(text, count: count) { return f }
    return nil
}

let pendulumHandshake = """
    edge-plant 1
    name Pendulum-v1
    observation 3 -1.0 -1.0 -8.0 1.0 1.0 8.0
    action 1 -2.0 2.0
    episode 200
    period 0.05
    ready
    """

@Suite("External plant: protocol messages")
struct PlantProtocolTests {
    @Test("a Pendulum-v1 handshake gives its sizes, bounds, time limit and period")
    func pendulumHandshakeParses() throws {
        let d = try #require(parseHandshake(pendulumHandshake))
        #expect(d.observationSize == 3 && d.actionSize == 1)
        #expect(d.observationLow == [-1, -1, -8] && d.observationHigh == [1, 1, 8])
        #expect(d.actionLow == [-2] && d.actionHigh == [2])
        #expect(d.episodeSteps == 200)
        #expect(d.periodSeconds == 0.05)
        #expect(d.name == "Pendulum-v1")
        #expect(d.observationBounds == [1, 1, 8])
    }

    @Test("unbounded observation dimensions (inf, float32 max) get the documented scale 10; a zero box gets 1")
    func observationFallbackScale() throws {
        let d = try #require(parseHandshake("""
            edge-plant 1
            observation 4 -inf -3.4028234663852886e+38 0 -2.5 inf 3.4028234663852886e+38 0 0.5
            action 2 -1 0 1 3
            episode 10
            ready
            """))
        #expect(d.observationBounds == [10, 10, 1, 2.5])
        #expect(d.periodSeconds == 0)
        #expect(d.actionLow == [-1, 0] && d.actionHigh == [1, 3])
    }

    @Test("each malformed handshake has its own error")
    func handshakeErrors() {
        #expect(handshakeFault("edge-plant 2") == .unsupportedVersion("2"))
        #expect(handshakeFault("hello") == .unexpected(got: "hello", expected: "the handshake's first line 'edge-plant 1'"))
        #expect(handshakeFault("edge-plant 1\nobservation 1 -1 1\nepisode 5\nready")
                == .badHandshake("no 'action' line before 'ready'"))
        #expect(handshakeFault("edge-plant 1\nobservation 1 -1 1\naction 1 -1 1\nready")
                == .badHandshake("no 'episode' line before 'ready'"))
        #expect(handshakeFault("edge-plant 1\naction 1 -inf 1")
                == .notFinite(what: "action low bound 1", token: "-inf"))
        #expect(handshakeFault("edge-plant 1\naction 1 2 2")
                == .badHandshake("action dimension 1: low bound 2 is not below high bound 2"))
        #expect(handshakeFault("edge-plant 1\nobservation 2 -1 -1 1")
                == .badHandshake("'observation 2' needs 4 bounds (2 lows, then 2 highs), got 3"))
        #expect(handshakeFault("edge-plant 1\nobservation 1 nan 1")
                == .notFinite(what: "observation low bound 1", token: "nan"))
        #expect(handshakeFault("edge-plant 1\nobservation 1 -1 one")
                == .notANumber(what: "observation high bound 1", token: "one"))
        #expect(handshakeFault("edge-plant 1\nobservation 0")
                == .badHandshake("observation size 0 is outside 1...255"))
        #expect(handshakeFault("edge-plant 1\nepisode 0") == .badHandshake("episode length must be at least 1 step"))
        #expect(handshakeFault("edge-plant 1\nepisode 5\nepisode 5") == .badHandshake("'episode' appears twice"))
        #expect(handshakeFault("edge-plant 1\nspeed 3")
                == .unexpected(got: "speed 3", expected: "a handshake line (observation, action, episode, period, name or ready)"))
        #expect(handshakeFault("edge-plant 1\nerror no display") == .plantReported("no display"))
    }

    @Test("a step reply gives the observation, the reward and both flags")
    func stepReplyParses() throws {
        let reply = try stepReply("obs 0.5 -0.25 1e-05 reward -1.5 done 1 truncated 0", count: 3).get()
        #expect(reply.0 == [0.5, -0.25, 1e-05])
        #expect(reply.1 == -1.5 && reply.2 == true && reply.3 == false)
        let tabs = try stepReply("obs\t1  2 3 reward 0 done 0 truncated 1", count: 3).get()
        #expect(tabs.0 == [1, 2, 3] && tabs.3 == true)
    }

    @Test("wrong counts, non-numbers, NaN/Inf, bad flags and unexpected messages are each reported")
    func stepReplyErrors() {
        #expect(stepFault("obs 1 2 reward 0 done 0 truncated 0") == .wrongCount(what: "observation", got: 2, expected: 3))
        #expect(stepFault("obs 1 2 3 4 reward 0 done 0 truncated 0") == .wrongCount(what: "observation", got: 4, expected: 3))
        #expect(stepFault("obs 1 nan 3 reward 0 done 0 truncated 0") == .notFinite(what: "observation value 2", token: "nan"))
        #expect(stepFault("obs 1 2 1e39 reward 0 done 0 truncated 0") == .notFinite(what: "observation value 3", token: "1e39"))
        #expect(stepFault("obs 1 2 3 reward -inf done 0 truncated 0") == .notFinite(what: "reward", token: "-inf"))
        #expect(stepFault("obs 1 zebra 3 reward 0 done 0 truncated 0") == .notANumber(what: "observation value 2", token: "zebra"))
        #expect(stepFault("obs 1 2 3 reward 0 done 2 truncated 0") == .badFlag(what: "done", token: "2"))
        #expect(stepFault("obs 1 2 3 reward 0 done 0 truncated") == .badFlag(what: "truncated", token: ""))
        #expect(stepFault("obs 1 2 3 reward 0 done 0") == .unexpected(
            got: "obs 1 2 3 reward 0 done 0", expected: "'obs O_1 .. O_N reward R done 0|1 truncated 0|1'"))
        #expect(stepFault("hello there") == .unexpected(
            got: "hello there", expected: "'obs O_1 .. O_N reward R done 0|1 truncated 0|1'"))
        #expect(stepFault("error motor overheated") == .plantReported("motor overheated"))
        #expect(stepFault("obs 1 2 3 reward 0 done 0 truncated 0 extra") == .unexpected(
            got: "obs 1 2 3 reward 0 done 0 truncated 0 extra",
            expected: "'obs O_1 .. O_N reward R done 0|1 truncated 0|1' and nothing else"))
    }

    @Test("requests are exact lines; actions go out with 9 significant digits, which round-trip a Float")
    func requestFormat() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBufferPointer { PlantProtocol.formatReset(seed: .max, into: $0.baseAddress!) }
        #expect(String(decoding: buffer[0..<n], as: UTF8.self) == "reset 18446744073709551615\n")
        let z = buffer.withUnsafeMutableBufferPointer { PlantProtocol.formatReset(seed: 0, into: $0.baseAddress!) }
        #expect(String(decoding: buffer[0..<z], as: UTF8.self) == "reset 0\n")
        let action: [Float] = [0.1, -2, 1e-7]
        var out = [UInt8](repeating: 0, count: PlantProtocol.stepCapacity(actions: 3))
        let m = out.withUnsafeMutableBufferPointer { PlantProtocol.formatStep(action: action, count: 3, into: $0.baseAddress!) }
        let text = String(decoding: out[0..<m], as: UTF8.self)
        #expect(text == "step 0.100000001 -2 1.00000001e-07\n")
        let parsed = text.dropFirst(5).dropLast().split(separator: " ").map { Float(String($0))! }
        #expect(parsed == action)
    }

    @Test("plant addresses: exec:COMMAND and unix:PATH, nothing else")
    func addresses() {
        #expect(PlantAddress("exec:python3 plant.py --fast") == .exec(command: "python3 plant.py --fast"))
        #expect(PlantAddress("unix:/tmp/plant.sock") == .unix(path: "/tmp/plant.sock"))
        #expect(PlantAddress("tcp:1234") == nil)
        #expect(PlantAddress("exec:") == nil)
        #expect(PlantAddress("exec:  ") == nil)
        #expect(PlantAddress.exec(command: "a b").label == "exec:'a b'")
    }
}

/// A plant in plain sh: the handshake (2 observations, 1 action in [-2, 2], episodes of 3 steps), then it
/// answers `reset` with `obs 0.5 -0.25` and `step A` with `obs A 0 reward -1.5 done 0 truncated 0`
/// (echoing the action it received, in its own units).
let echoPlant = PlantAddress.exec(command: """
    printf 'edge-plant 1\\nobservation 2 -1 -1 1 1\\naction 1 -2 2\\nepisode 3\\nready\\n'; \
    while read cmd a; do case $cmd in reset) echo 'obs 0.5 -0.25';; \
    step) echo "obs $a 0 reward -1.5 done 0 truncated 0";; close) exit 0;; esac; done
    """)

@Suite("External plant: processes and their failures", .serialized)
struct ExternalPlantProcessTests {
    @Test("a shell plant: handshake, reset, steps with actions scaled to its bounds, close with status 0")
    func echoPlantRoundTrip() throws {
        let plant = try ExternalPlant(address: echoPlant)
        #expect(plant.description.observationSize == 2 && plant.description.actionSize == 1)
        #expect(plant.description.episodeSteps == 3)
        try plant.reset(seed: 42)
        #expect(plant.observation[0] == 0.5 && plant.observation[1] == -0.25)
        for (normalized, sent) in [(Float(0.5), Float(1)), (-1, -2), (3, 2), (.nan, 0), (0.25, 0.5)] {
            try plant.step([normalized])
            #expect(plant.sentAction[0] == sent)
            #expect(plant.observation[0] == sent, "the plant echoes the action it received")
            #expect(plant.reward == -1.5 && !plant.done && !plant.truncated)
        }
        #expect(plant.stepsInEpisode == 5)
        let exit = try #require(plant.close())
        #expect(exit.exitCode == 0 && exit.signal == 0)
    }

    @Test("a plant that exits before its handshake: exit status and the tail of its standard error")
    func exitBeforeHandshake() {
        let error = plantFailure { _ = try ExternalPlant(address: .exec(command: "echo 'first line' >&2; echo 'no simulator here' >&2; exit 7")) }
        #expect(error?.fault == .exited(waitingFor: "the handshake's first line 'edge-plant 1'", exitCode: 7, signal: 0))
        #expect(error?.stderrTail == "first line | no simulator here")
        #expect(error?.message == "plant exec:'echo 'first line' >&2; echo 'no simulator here' >&2; exit 7': exited with status 7 while edge-ctl waited for the handshake's first line 'edge-plant 1'; its standard error ended with: first line | no simulator here")
    }

    @Test("a command that does not exist: the shell's status 127 and its message")
    func missingCommand() {
        let error = plantFailure { _ = try ExternalPlant(address: .exec(command: "edge-ctl-no-such-plant --fast")) }
        #expect(error?.fault == .exited(waitingFor: "the handshake's first line 'edge-plant 1'", exitCode: 127, signal: 0))
        #expect(error?.stderrTail.contains("not found") == true)
    }

    @Test("a silent plant times out (handshake) and is ended, not left running")
    func handshakeTimeout() {
        var options = ExternalPlantOptions()
        options.handshakeTimeoutSeconds = 0.3
        let marker = "edge-ctl-test-\(UUID().uuidString)"
        let t0 = Date()
        let error = plantFailure { _ = try ExternalPlant(address: .exec(command: "exec sleep 30 # \(marker)"), options: options) }
        #expect(error?.fault == .timedOut(waitingFor: "the handshake's first line 'edge-plant 1'", seconds: 0.3))
        #expect(Date().timeIntervalSince(t0) < 5)
        #expect(error?.message.contains("a slow plant needs a larger --plant-timeout") == true)
    }

    @Test("a plant killed by a signal mid-run is reported with the signal")
    func killedBySignal() throws {
        let plant = try ExternalPlant(address: .exec(command: """
            printf 'edge-plant 1\\nobservation 1 -1 1\\naction 1 -1 1\\nepisode 3\\nready\\n'; read line; kill -9 $$
            """))
        let error = plantFailure { try plant.reset(seed: 1) }
        #expect(error?.fault == .exited(waitingFor: "the first observation after 'reset'", exitCode: -1, signal: 9))
        #expect(error?.message.contains("was killed by signal 9") == true)
    }

    @Test("writing to a plant that already exited is an error, not SIGPIPE")
    func writeToDeadPlant() throws {
        let plant = try ExternalPlant(address: .exec(command: """
            printf 'edge-plant 1\\nobservation 1 -1 1\\naction 1 -1 1\\nepisode 3\\nready\\n'; exec 0<&-; exit 4
            """))
        Thread.sleep(forTimeInterval: 0.5)  // it has exited: its end of the request pipe is closed
        let error = plantFailure { try plant.step([0]) }
        // Normally the write fails (EPIPE); on a starved machine the plant may still be exiting, and
        // the write lands in the pipe before the end of file is seen. Either way: status 4, no SIGPIPE.
        let expected: [ExternalPlantError.Fault] = [
            .exited(waitingFor: "the plant to read 'step'", exitCode: 4, signal: 0),
            .exited(waitingFor: "the answer to 'step' (step 1 of the episode)", exitCode: 4, signal: 0),
        ]
        #expect(error.map { expected.contains($0.fault) } == true, "\(String(describing: error?.fault))")
    }

    @Test("a Unix socket that nobody listens on")
    func noSocket() {
        let path = NSTemporaryDirectory() + "edge-ctl-no-plant-\(UUID().uuidString).sock"
        let error = plantFailure { _ = try ExternalPlant(address: .unix(path: path)) }
        #expect(error?.fault == .cannotConnect(path: path, errno: 2))
    }

    // MARK: - The tiny plant (python3, standard library only)

    @Test("tiny plant: reset and step give the cart's exact numbers", .enabled(if: python3Path != nil, "python3 not found"))
    func tinyPlantNumbers() throws {
        let plant = try ExternalPlant(address: tinyPlant())
        let d = plant.description
        #expect(d.name == "tiny cart" && d.observationSize == 2 && d.actionSize == 1 && d.episodeSteps == 50)
        #expect(d.observationBounds == [5, PlantProtocol.unboundedObservationScale] && d.periodSeconds == 0.1)
        try plant.reset(seed: 7)
        // Python: random.Random(7).uniform(-1, 1), .uniform(-0.5, 0.5)
        #expect(plant.observation[0] == Float(-0.35233447033367526) && plant.observation[1] == Float(-0.3491508260754981))
        try plant.step([0.75])  // force 1.5 N
        #expect(plant.sentAction[0] == 1.5)
        #expect(abs(plant.observation[0] - -0.3705037988108476) < 1e-7)
        #expect(abs(plant.observation[1] - -0.18169328477172314) < 1e-7)
        #expect(abs(plant.reward - -0.16307430990638289) < 1e-7)
        #expect(plant.close()?.exitCode == 0)
    }

    @Test("tiny plant: done and truncated flags", .enabled(if: python3Path != nil, "python3 not found"))
    func tinyPlantFlags() throws {
        let plant = try ExternalPlant(address: tinyPlant("--episode 4 --done-at 6"))
        try plant.reset(seed: 1)
        var flags: [(Bool, Bool)] = []
        for _ in 0..<4 { try plant.step([0]); flags.append((plant.done, plant.truncated)) }
        #expect(flags.map(\.0) == [false, false, false, false] && flags.map(\.1) == [false, false, false, true])
        let twoSteps = try ExternalPlant(address: tinyPlant("--done-at 2"))
        try twoSteps.reset(seed: 1)
        try twoSteps.step([0]); #expect(!twoSteps.done)
        try twoSteps.step([0]); #expect(twoSteps.done && !twoSteps.truncated)
    }

    static let stepFaults: [(String, ExternalPlantError.Fault)] = [
        ("nan@2", .notFinite(what: "observation value 1", token: "nan")),
        ("inf-reward@1", .notFinite(what: "reward", token: "-inf")),
        ("short@1", .wrongCount(what: "observation", got: 1, expected: 2)),
        ("garbage@1", .notANumber(what: "observation value 2", token: "zebra")),
        ("unexpected@1", .unexpected(got: "hello there", expected: "'obs O_1 .. O_N reward R done 0|1 truncated 0|1'")),
        ("error@1", .plantReported("motor overheated")),
        ("badflag@3", .badFlag(what: "done", token: "2")),
        ("exit@2", .exited(waitingFor: "the answer to 'step' (step 2 of the episode)", exitCode: 3, signal: 0)),
        ("quit@1", .exited(waitingFor: "the answer to 'step' (step 1 of the episode)", exitCode: 0, signal: 0)),
        ("partial@1", .exited(waitingFor: "the answer to 'step' (step 1 of the episode)", exitCode: 5, signal: 0)),
    ]

    @Test("tiny plant: each misbehaviour during an episode is its own error",
          .enabled(if: python3Path != nil, "python3 not found"), arguments: stepFaults)
    func tinyPlantStepFaults(fault: String, expected: ExternalPlantError.Fault) throws {
        let plant = try ExternalPlant(address: tinyPlant("--fault " + fault))
        try plant.reset(seed: 3)
        let error = plantFailure { for _ in 0..<5 { try plant.step([0.1]) } }
        #expect(error?.fault == expected)
        #expect(error?.message.hasPrefix("plant exec:'") == true)
        if fault.hasPrefix("exit") { #expect(error?.stderrTail == "tiny_plant: the cart fell off the table") }
    }

    @Test("tiny plant: a step that never comes back times out", .enabled(if: python3Path != nil, "python3 not found"))
    func tinyPlantStepTimeout() throws {
        var options = ExternalPlantOptions()
        options.stepTimeoutSeconds = 0.5
        let plant = try ExternalPlant(address: tinyPlant("--fault hang@2"), options: options)
        try plant.reset(seed: 3)
        let t0 = Date()
        let error = plantFailure { for _ in 0..<3 { try plant.step([0]) } }
        #expect(error?.fault == .timedOut(waitingFor: "the answer to 'step' (step 2 of the episode)", seconds: 0.5))
        #expect(Date().timeIntervalSince(t0) < 3)
    }

    @Test("tiny plant: handshake faults (version, infinite action bound, exit with a message)",
          .enabled(if: python3Path != nil, "python3 not found"))
    func tinyPlantHandshakeFaults() {
        #expect(plantFailure { _ = try ExternalPlant(address: tinyPlant("--fault version2")) }?.fault == .unsupportedVersion("2"))
        #expect(plantFailure { _ = try ExternalPlant(address: tinyPlant("--fault inf-action")) }?.fault
                == .notFinite(what: "action high bound 1", token: "inf"))
        let exit = plantFailure { _ = try ExternalPlant(address: tinyPlant("--fault exit")) }
        #expect(exit?.fault == .exited(waitingFor: "the handshake's first line 'edge-plant 1'", exitCode: 3, signal: 0))
        #expect(exit?.stderrTail == "tiny_plant: cannot open the simulated cart")
    }

    @Test("tiny plant on a Unix socket: two connections, each its own cart",
          .enabled(if: python3Path != nil, "python3 not found"))
    func tinyPlantUnixSocket() throws {
        let path = NSTemporaryDirectory() + "edge-ctl-tiny-\(UUID().uuidString.prefix(8)).sock"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python3Path!)
        server.arguments = [tinyPlantPath, "--listen", path]
        try server.run()
        // SIGKILL: a Process started from a test thread inherits that thread's blocked SIGTERM.
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit(); try? FileManager.default.removeItem(atPath: path) }
        var waited = 0
        while !FileManager.default.fileExists(atPath: path) && waited < 100 { Thread.sleep(forTimeInterval: 0.05); waited += 1 }
        let a = try ExternalPlant(address: .unix(path: path))
        let b = try ExternalPlant(address: .unix(path: path))
        try a.reset(seed: 7)
        try b.reset(seed: 7)
        try a.step([0.75])
        #expect(abs(a.observation[1] - -0.18169328477172314) < 1e-7)
        #expect(b.observation[1] == Float(-0.3491508260754981), "b's cart has not moved")
        #expect(a.close() == nil, "a socket plant has no exit status")
        try b.step([0.75])
        #expect(b.observation[1] == a.observation[1])
    }
}
