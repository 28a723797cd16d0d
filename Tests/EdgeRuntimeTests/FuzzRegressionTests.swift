import EdgeIO
import EdgeRuntime
import Foundation
import Testing

/// The inputs scripts/fuzz.sh found that crashed, hung or gave an unclear error, each now a clear error.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// A checkpoint file around `payload` with a correct header and CRC (a foreign or buggy writer's file).
    static func checkpointFile(payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        for b in "EDGECKPT".utf8 { w.u8(b) }
        w.u32(Checkpoint.formatVersion)
        w.u64(UInt64(payload.count))
        w.u32(CRC32.of(payload))
        w.raw(payload)
        return w.bytes
    }

    static func decodeError(_ bytes: [UInt8]) -> FileError? {
        do throws(FileError) {
            _ = try Checkpoint.decode(bytes, path: "/data/checkpoint.bin")
            return nil
        } catch {
            return error
        }
    }

    @Test("checkpoint: an entry count of 2^32-1 with a short float entry is an error at once, not a 4-billion-step spin")
    func hugeEntryCount() {
        var p = ByteWriter()
        p.u32(UInt32.max)
        p.string("w")
        p.u8(0)
        p.u32(4)                   // four floats announced, 16 bytes needed, 4 present
        p.f32(1)
        let started = ContinuousClock.now
        let error = Self.decodeError(Self.checkpointFile(payload: p.bytes))
        #expect(error?.message == "/data/checkpoint.bin: checkpoint entry 'w' runs past the end")
        #expect(ContinuousClock.now - started < .seconds(1))
    }

    @Test("checkpoint: 100,000 entries decode in well under a second (was O(n²): about a minute)")
    func manyEntries() throws {
        var p = ByteWriter()
        let count = 100_000
        p.u32(UInt32(count))
        for i in 0..<count {
            p.string("e\(i)")
            p.u8(2)
            p.u32(1)
            p.i64(Int64(i))
        }
        let started = ContinuousClock.now
        let checkpoint = try Checkpoint.decode(Self.checkpointFile(payload: p.bytes), path: "/data/checkpoint.bin")
        let elapsed = ContinuousClock.now - started
        #expect(checkpoint.names.count == count)
        #expect(checkpoint.integer("e99999") == 99_999)
        #expect(elapsed < .seconds(2), "decoding took \(elapsed)")
    }

    @Test("checkpoint: two entries with one name are an error naming it")
    func duplicateNames() {
        var p = ByteWriter()
        p.u32(2)
        for value in [1, 2] as [Int64] { p.string("run.seed"); p.u8(2); p.u32(1); p.i64(value) }
        let error = Self.decodeError(Self.checkpointFile(payload: p.bytes))
        #expect(error?.message == "/data/checkpoint.bin: checkpoint holds two entries named 'run.seed'")
    }

    @Test("checkpoint: a name with a newline or escape is printed escaped, on one line")
    func controlCharactersInNames() {
        var p = ByteWriter()
        p.u32(1)
        p.string("bad\nname\u{1B}[2J")
        p.u8(7)
        p.u32(0)
        let message = Self.decodeError(Self.checkpointFile(payload: p.bytes))?.message ?? ""
        #expect(message == "/data/checkpoint.bin: checkpoint entry 'bad\\u{0a}name\\u{1b}[2J' has unknown kind 7")
        #expect(!message.utf8.contains { $0 < 0x20 })
    }

    @Test("export: a log whose header schema was damaged (observation count flipped) is an error, not a read past the record")
    func exportDamagedSchema() throws {
        try withTemporaryDirectory { dir in
            let directory = DataDirectory(path: dir)
            let schema = TransitionRecord.schema(rig: .motor, observations: 2, actions: 1)
            let log = try RecordLog(path: directory.transitionsPath, schema: schema) { _ in }
            let obs: [Float] = [0.1, 0.2], next: [Float] = [0.3, 0.4], action: [Float] = [0.5]
            for episode in 0..<3 {
                log.append(TransitionRecord.encode(obs: obs, action: action, reward: -1, nextObs: next,
                                                   terminal: false, episode: episode, observations: 2, actions: 1))
            }
            try log.sync()
            #expect(try exportTransitionsCSV(directory: dir).split(separator: "\n").count == 4)
            // Byte 13 is the schema's observation count (the fuzzer's "flip13" seed: 2 becomes 18).
            var bytes = try Data(contentsOf: URL(fileURLWithPath: directory.transitionsPath))
            bytes[13] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: directory.transitionsPath))
            do {
                _ = try exportTransitionsCSV(directory: dir)
                Issue.record("a log with a damaged schema was exported")
            } catch let error as FileError {
                #expect(error.message == "\(directory.transitionsPath): record 0 holds 29 bytes, but the log's "
                        + "schema (18 observations, 1 actions) makes records of 157 bytes: the log's header or "
                        + "records are damaged")
            }
        }
    }
}
