/// A checkpoint: named arrays (network parameters, optimizer moments, normalizer statistics) and
/// integers (counters, seeds), written atomically and verified on read.
///
/// File layout (little-endian): `"EDGECKPT"`, format version (u32), payload length (u64), CRC-32 of the
/// payload (u32), payload. Payload: entry count (u32), then per entry its name (u16 length + UTF-8), a
/// kind byte (0 Float, 1 Double, 2 Int64), the value count (u32) and the values. Any flipped byte is
/// caught: in the header by the magic, version and length checks, in the payload by the CRC.
public struct Checkpoint {
    public static let formatVersion: UInt32 = 1
    static let headerSize = 24

    public enum Values: Equatable {
        case floats([Float])
        case doubles([Double])
        case integers([Int64])
    }

    public private(set) var names: [String] = []
    public private(set) var values: [Values] = []

    public init() {}

    public mutating func put(_ name: String, _ v: Values) {
        if let i = names.firstIndex(of: name) { values[i] = v } else { names.append(name); values.append(v) }
    }

    public mutating func put(_ name: String, floats p: UnsafePointer<Float>, count: Int) {
        put(name, .floats(Array(UnsafeBufferPointer(start: p, count: count))))
    }

    public func get(_ name: String) -> Values? {
        names.firstIndex(of: name).map { values[$0] }
    }

    public func floats(_ name: String) -> [Float]? {
        if case .floats(let v)? = get(name) { return v }
        return nil
    }

    public func doubles(_ name: String) -> [Double]? {
        if case .doubles(let v)? = get(name) { return v }
        return nil
    }

    public func integer(_ name: String) -> Int64? {
        if case .integers(let v)? = get(name), let first = v.first { return first }
        return nil
    }

    public func encoded() -> [UInt8] {
        var p = ByteWriter()
        p.u32(UInt32(names.count))
        for (name, v) in zip(names, values) {
            p.string(name)
            switch v {
            case .floats(let a): p.u8(0); p.u32(UInt32(a.count)); for x in a { p.f32(x) }
            case .doubles(let a): p.u8(1); p.u32(UInt32(a.count)); for x in a { p.f64(x) }
            case .integers(let a): p.u8(2); p.u32(UInt32(a.count)); for x in a { p.i64(x) }
            }
        }
        var w = ByteWriter(capacity: Self.headerSize + p.bytes.count)
        for b in "EDGECKPT".utf8 { w.u8(b) }
        w.u32(Self.formatVersion)
        w.u64(UInt64(p.bytes.count))
        w.u32(CRC32.of(p.bytes))
        w.raw(p.bytes)
        return w.bytes
    }

    /// Decodes a checkpoint; `path` only names the file in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws(FileError) -> Checkpoint {
        func corrupt(_ why: String) -> FileError { FileError(path: path, operation: "read", code: 0, detail: why) }
        guard bytes.count >= headerSize, bytes[0..<8].elementsEqual("EDGECKPT".utf8) else {
            throw corrupt("not an edge-ctl checkpoint (bad magic)")
        }
        var r = ByteReader(bytes, offset: 8)
        let version = r.u32()
        guard version == formatVersion else {
            throw corrupt("checkpoint format version \(version), this build reads version \(formatVersion)")
        }
        let length = r.u64(), crc = r.u32()
        guard length == UInt64(bytes.count - headerSize) else {
            throw corrupt("checkpoint is corrupt or truncated: header says \(length) payload bytes, file has \(bytes.count - headerSize)")
        }
        let actual = bytes.withUnsafeBytes { CRC32.of(UnsafeRawBufferPointer(rebasing: $0[headerSize...])) }
        guard actual == crc else { throw corrupt("checkpoint is corrupt: CRC mismatch") }
        var checkpoint = Checkpoint()
        let count = Int(r.u32())
        for _ in 0..<count where r.ok {
            let name = r.string()
            let kind = r.u8()
            let n = Int(r.u32())
            guard r.ok, n <= r.remaining else { throw corrupt("checkpoint entry '\(name)' runs past the end") }
            switch kind {
            case 0: checkpoint.put(name, .floats((0..<n).map { _ in r.f32() }))
            case 1: checkpoint.put(name, .doubles((0..<n).map { _ in r.f64() }))
            case 2: checkpoint.put(name, .integers((0..<n).map { _ in r.i64() }))
            default: throw corrupt("checkpoint entry '\(name)' has unknown kind \(kind)")
            }
        }
        guard r.ok, r.remaining == 0 else { throw corrupt("checkpoint payload is malformed") }
        return checkpoint
    }

    /// Writes atomically (temp file, fsync, rename, directory fsync).
    public func write(to path: String) throws(FileError) {
        try FileSystem.writeAtomically(encoded(), to: path)
    }

    public static func read(from path: String) throws(FileError) -> Checkpoint {
        let file = try FileHandle(path: path, mode: .read)
        return try decode(try file.readAll(), path: path)
    }
}
