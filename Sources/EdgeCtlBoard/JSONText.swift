import EdgeCore

/// JSON written by hand (no Foundation on the board), with the host CLI's keys in the host's order
/// (it sorts keys, so callers add them sorted). Numbers get 9 significant digits, enough to read a
/// Float back exactly; non-finite numbers become `null`, as JSON has no NaN or infinity.
struct JSONObject {
    private var members: [String] = []

    /// Adds a member whose value is already JSON text (an object, an array, `null`).
    mutating func raw(_ key: String, _ json: String) {
        members.append(jsonString(key) + ":" + json)
    }

    mutating func integer<Integer: BinaryInteger>(_ key: String, _ value: Integer) {
        raw(key, "\(value)")
    }

    mutating func number(_ key: String, _ value: Double?) {
        raw(key, value.map(jsonNumber) ?? "null")
    }

    mutating func string(_ key: String, _ value: String?) {
        raw(key, value.map(jsonString) ?? "null")
    }

    var text: String { "{" + members.joined(separator: ",") + "}" }
}

/// A JSON array of values that are already JSON text.
func jsonArray(_ items: [String]) -> String {
    "[" + items.joined(separator: ",") + "]"
}

/// A number as JSON: `%.9g`, or `null` when it is not finite.
func jsonNumber(_ value: Double) -> String {
    value.isFinite ? formatFloat(value, digits: 9) : "null"
}

/// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
func jsonString(_ text: String) -> String {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = [UInt8(ascii: "\"")]
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            bytes += [UInt8(ascii: "\\"), byte]
        case UInt8(ascii: "\n"):
            bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case 0..<0x20:
            bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        default:
            bytes.append(byte)
        }
    }
    bytes.append(UInt8(ascii: "\""))
    return String(decoding: bytes, as: UTF8.self)
}
