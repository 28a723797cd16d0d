import CEdgeSys
import EdgeCore

/// Exit codes, the same as the host CLI's (swift-argument-parser uses the BSD sysexits values).
enum ExitStatus {
    /// A data or runtime error: a board file with an error, a failed run.
    static let failure: Int32 = 1
    /// EX_USAGE: an unknown flag, a missing or bad value.
    static let usage: Int32 = 64
    /// EX_UNAVAILABLE: a command this binary does not offer yet.
    static let unavailable: Int32 = 69
}

/// A command's failure, already phrased as the one line to print on stderr, with its exit status.
struct CommandFailure: Error {
    let message: String
    let status: Int32

    init(_ message: String, status: Int32 = ExitStatus.failure) {
        self.message = message
        self.status = status
    }
}

/// Writes `text` and a newline to standard error, unbuffered (progress and errors).
func printError(_ text: String) {
    var line = text
    line += "\n"
    line.withUTF8 { bytes in
        bytes.withMemoryRebound(to: CChar.self) { edge_write_fd(2, $0.baseAddress, $0.count) }
    }
}

/// `value` with exactly `decimals` digits after the point, like printf's `%.Nf` (Embedded Swift cannot
/// format floats, and `formatFloat` gives significant digits, not decimals).
func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = (value * scale).rounded()
    guard scaled.isFinite, scaled.magnitude < 9e18 else { return formatFloat(value, digits: 6) }
    let units = Int64(scaled)
    let whole = units.magnitude / UInt64(scale)
    let fraction = units.magnitude % UInt64(scale)
    var text = units < 0 ? "-\(whole)" : "\(whole)"
    if decimals > 0 {
        let digits = "\(fraction)"
        text += "." + String(repeating: "0", count: decimals - digits.utf8.count) + digits
    }
    return text
}

/// `text` right-aligned in `width` columns (like printf's `%Ns`).
func padLeft(_ text: String, _ width: Int) -> String {
    let count = text.utf8.count
    return count >= width ? text : String(repeating: " ", count: width - count) + text
}
