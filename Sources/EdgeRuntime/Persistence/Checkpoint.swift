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
        // Entries are appended as read and checked for duplicate names once at the end (sorted), so a
        // crafted file costs O(n log n): `put` per entry was O(n²), and the loop used to spin through the
        // whole 32-bit entry count after a short read (both found by scripts/fuzz.sh, checkpoint target).
        var checkpoint = Checkpoint()
        let count = Int(r.u32())
        for _ in 0..<count {
            let name = r.string()
            let kind = r.u8()
            let n = Int(r.u32())
            guard r.ok else { throw corrupt("checkpoint entry '\(printable(name))' runs past the end") }
            let width = kind == 0 ? 4 : kind == 1 || kind == 2 ? 8 : 0
            guard width > 0 else { throw corrupt("checkpoint entry '\(printable(name))' has unknown kind \(kind)") }
            guard n <= r.remaining / width else {
                throw corrupt("checkpoint entry '\(printable(name))' runs past the end")
            }
            checkpoint.names.append(name)
            switch kind {
            case 0: checkpoint.values.append(.floats((0..<n).map { _ in r.f32() }))
            case 1: checkpoint.values.append(.doubles((0..<n).map { _ in r.f64() }))
            default: checkpoint.values.append(.integers((0..<n).map { _ in r.i64() }))
            }
        }
        let byName = checkpoint.names.indices.sorted {
            checkpoint.names[$0].utf8.lexicographicallyPrecedes(checkpoint.names[$1].utf8)
        }
        for (a, b) in zip(byName, byName.dropFirst()) where checkpoint.names[a].utf8.elementsEqual(checkpoint.names[b].utf8) {
            throw corrupt("checkpoint holds two entries named '\(printable(checkpoint.names[a]))'")
        }
        guard r.ok, r.remaining == 0 else { throw corrupt("checkpoint payload is malformed") }
        return checkpoint
    }

    /// An entry name read from a file, safe to print in a one-line message: control characters and
    /// line separators become `\u{XX}` (a damaged name must not break the line or drive the terminal).
    static func printable(_ name: String) -> String {
        let hex: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        var out = ""
        for scalar in name.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (v >= 0x7F && v < 0xA0) || v == 0x2028 || v == 0x2029 {
                out += "\\u{"
                var shift: UInt32 = v > 0xFF ? 12 : 4
                while true {
                    out.append(hex[Int((v >> shift) & 0xF)])
                    if shift == 0 { break }
                    shift -= 4
                }
                out += "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
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
