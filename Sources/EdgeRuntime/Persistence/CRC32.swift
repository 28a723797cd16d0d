/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum zlib and PNG use: check value
/// of "123456789" is 0xCBF43926. A 16-entry nibble table keeps it fast enough for checkpoints (a few
/// hundred MB/s) without a global table.
public struct CRC32 {
    public private(set) var value: UInt32 = 0xFFFF_FFFF

    public init() {}

    @inline(__always)
    static func nibble(_ n: UInt32) -> UInt32 {
        var c = n
        for _ in 0..<4 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let table: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
                    UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
            (Self.nibble(0), Self.nibble(1), Self.nibble(2), Self.nibble(3), Self.nibble(4), Self.nibble(5),
             Self.nibble(6), Self.nibble(7), Self.nibble(8), Self.nibble(9), Self.nibble(10), Self.nibble(11),
             Self.nibble(12), Self.nibble(13), Self.nibble(14), Self.nibble(15))
        withUnsafeBytes(of: table) { t in
            let lookup = t.bindMemory(to: UInt32.self)
            var c = value
            for byte in bytes {
                c = (c >> 4) ^ lookup[Int((c ^ UInt32(byte)) & 0xF)]
                c = (c >> 4) ^ lookup[Int((c ^ (UInt32(byte) >> 4)) & 0xF)]
            }
            value = c
        }
    }

    public var checksum: UInt32 { value ^ 0xFFFF_FFFF }

    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.checksum
    }

    public static func of(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { of($0) }
    }
}
