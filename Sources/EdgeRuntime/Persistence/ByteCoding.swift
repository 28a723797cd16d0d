/// Little-endian encoding of the values persisted files hold. Files written on x86-64 and on aarch64
/// are byte-identical.
public struct ByteWriter {
    public private(set) var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }
    public mutating func u16(_ v: UInt16) { bytes.append(UInt8(v & 0xFF)); bytes.append(UInt8(v >> 8)) }
    public mutating func u32(_ v: UInt32) { for s in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
    public mutating func u64(_ v: UInt64) { for s in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
    public mutating func i64(_ v: Int64) { u64(UInt64(bitPattern: v)) }
    public mutating func f32(_ v: Float) { u32(v.bitPattern) }
    public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    public mutating func raw(_ other: [UInt8]) { bytes.append(contentsOf: other) }
    public mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        u16(UInt16(min(utf8.count, Int(UInt16.max))))
        bytes.append(contentsOf: utf8.prefix(Int(UInt16.max)))
    }
    public mutating func floats(_ p: UnsafePointer<Float>, count: Int) {
        u32(UInt32(count))
        for i in 0..<count { f32(p[i]) }
    }
}

/// Reads what `ByteWriter` wrote; every read checks bounds and reports running past the end as `nil`
/// through `ok`, so a truncated or foreign file never crashes the reader.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    /// False once any read ran past the end.
    public private(set) var ok = true

    public init(_ bytes: [UInt8], offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    public var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int) -> Int? {
        guard ok, n >= 0, offset + n <= bytes.count else { ok = false; return nil }
        defer { offset += n }
        return offset
    }

    /// Moves past `n` bytes.
    public mutating func skip(_ n: Int) { _ = take(n) }
    public mutating func u8() -> UInt8 { guard let o = take(1) else { return 0 }; return bytes[o] }
    public mutating func u16() -> UInt16 {
        guard let o = take(2) else { return 0 }
        return UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8
    }
    public mutating func u32() -> UInt32 {
        guard let o = take(4) else { return 0 }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[o + i]) << UInt32(8 * i) }
        return v
    }
    public mutating func u64() -> UInt64 {
        guard let o = take(8) else { return 0 }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[o + i]) << UInt64(8 * i) }
        return v
    }
    public mutating func i64() -> Int64 { Int64(bitPattern: u64()) }
    public mutating func f32() -> Float { Float(bitPattern: u32()) }
    public mutating func f64() -> Double { Double(bitPattern: u64()) }
    public mutating func string() -> String {
        let n = Int(u16())
        guard let o = take(n) else { return "" }
        return String(decoding: bytes[o..<(o + n)], as: UTF8.self)
    }
    /// Reads a float array written by `ByteWriter.floats` into `p`, which must hold `expected` values;
    /// a different count marks the reader failed.
    public mutating func floats(into p: UnsafeMutablePointer<Float>, expected: Int) {
        let n = Int(u32())
        guard ok, n == expected else { ok = false; return }
        for i in 0..<n { p[i] = f32() }
    }
}
