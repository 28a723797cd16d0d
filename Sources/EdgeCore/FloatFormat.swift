import CEdgeSys

/// Formats a number as printf's `%.{digits}g` does. Embedded Swift cannot convert floats to text, so
/// every module that prints or writes numbers (the board binary included) goes through this.
public func formatFloat(_ value: Double, digits: Int = 6) -> String {
    var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)  // 48 bytes
    return withUnsafeMutableBytes(of: &buffer) { raw -> String in
        let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        let n = Int(edge_format_double(base, raw.count, value, Int32(digits)))
        return String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: n), as: UTF8.self)
    }
}

/// Formats a Float; see `formatFloat(_:digits:)`.
public func formatFloat(_ value: Float, digits: Int = 6) -> String {
    formatFloat(Double(value), digits: digits)
}
