import EdgeRuntime
import Foundation
import Testing

/// A fresh directory under the system temp dir, removed when the test ends.
func withTemporaryDirectory(_ body: (String) throws -> Void) rethrows {
    let dir = NSTemporaryDirectory() + "edge-ctl-test-" + UUID().uuidString
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(dir)
}

func decodeError(_ bytes: [UInt8]) -> FileError? {
    do throws(FileError) {
        _ = try Checkpoint.decode(bytes, path: "/data/checkpoint.bin")
        return nil
    } catch {
        return error
    }
}

func payload(_ i: Int) -> [UInt8] { (0..<(5 + i % 13)).map { UInt8(truncatingIfNeeded: i * 31 + $0) } }

@Suite("Persistence")
struct PersistenceTests {
    @Test("CRC-32 of \"123456789\" is the standard check value 0xCBF43926")
    func crcCheckValue() {
        #expect(CRC32.of(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.of([]) == 0)
    }

    @Test("a record log returns every synced record after reopening, in order")
    func logRoundTrip() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/log.bin"
            let log = try RecordLog(path: path, schema: 7) { _ in Issue.record("new log has records") }
            for i in 0..<100 { log.append(payload(i)) }
            try log.sync()
            #expect(log.syncedRecordCount == 100)
            var seen: [[UInt8]] = []
            let reopened = try RecordLog(path: path, schema: 7) { seen.append(Array($0)) }
            #expect(seen.count == 100)
            #expect(seen == (0..<100).map(payload))
            #expect(reopened.truncatedBytes == 0)
        }
    }

    @Test("a torn tail is truncated on open and every complete record before it survives")
    func tornTail() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/log.bin"
            let log = try RecordLog(path: path, schema: 1) { _ in }
            for i in 0..<10 { log.append(payload(i)) }
            try log.sync()
            let full = try Data(contentsOf: URL(fileURLWithPath: path))
            // Cut the file at every length inside the last record: 9 records must come back each time.
            let lastRecordBytes = 8 + payload(9).count
            for cut in 1..<lastRecordBytes {
                try full.prefix(full.count - cut).write(to: URL(fileURLWithPath: path))
                var n = 0
                let reopened = try RecordLog(path: path, schema: 1) { _ in n += 1 }
                #expect(n == 9)
                #expect(reopened.truncatedBytes == lastRecordBytes - cut)
                let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
                #expect(size == full.count - lastRecordBytes)
            }
        }
    }

    @Test("a flipped payload byte ends the log at the record before it")
    func corruptRecord() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/log.bin"
            let log = try RecordLog(path: path, schema: 1) { _ in }
            for i in 0..<5 { log.append(payload(i)) }
            try log.sync()
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let third = 16 + (0..<2).reduce(0) { $0 + 8 + payload($1).count }
            bytes[third + 8] ^= 0x40
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            var n = 0
            _ = try RecordLog(path: path, schema: 1) { _ in n += 1 }
            #expect(n == 2)
        }
    }

    @Test("a foreign file and a log of another schema give errors naming the file")
    func foreignFiles() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/notes.txt"
            try Data("hello, this is not a log".utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: FileError.self) { try RecordLog(path: path, schema: 1) { _ in } }
            do { _ = try RecordLog(path: path, schema: 1) { _ in } } catch let error as FileError {
                #expect(error.message.contains(path))
                #expect(error.message.contains("not an edge-ctl dataset log"))
            }
            let logPath = dir + "/log.bin"
            try RecordLog(path: logPath, schema: 1) { _ in }.sync()
            do { _ = try RecordLog(path: logPath, schema: 2) { _ in }; Issue.record("schema mismatch accepted") } catch let error as FileError {
                #expect(error.message.contains("schema 1"))
            }
        }
    }

    @Test("a checkpoint round-trips floats, doubles and integers exactly")
    func checkpointRoundTrip() throws {
        try withTemporaryDirectory { dir in
            var c = Checkpoint()
            let weights: [Float] = (0..<300).map { Float($0) * 0.37 - 11 }
            weights.withUnsafeBufferPointer { c.put("policy.weights", floats: $0.baseAddress!, count: $0.count) }
            c.put("normalizer.mean", .doubles([1.5, -2.25, .pi]))
            c.put("steps", .integers([12345]))
            let path = dir + "/checkpoint.bin"
            try c.write(to: path)
            let back = try Checkpoint.read(from: path)
            #expect(back.floats("policy.weights") == weights)
            #expect(back.doubles("normalizer.mean") == [1.5, -2.25, .pi])
            #expect(back.integer("steps") == 12345)
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"))
        }
    }

    @Test("flipping any single byte of a checkpoint is detected and the error names the file")
    func checkpointEveryByteFlip() throws {
        var c = Checkpoint()
        c.put("a", .floats([1, 2, 3]))
        c.put("b", .integers([4]))
        let bytes = c.encoded()
        for i in 0..<bytes.count {
            var bad = bytes
            bad[i] ^= 0x01
            let error = decodeError(bad)
            #expect(error != nil, "flip at byte \(i) not detected")
            #expect(error?.message.hasPrefix("/data/checkpoint.bin: ") == true)
        }
    }
}
