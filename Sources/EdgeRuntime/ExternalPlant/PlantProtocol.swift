import CEdgeSys
import EdgeCore

/// The edge-plant line protocol, version 1 (README, "Bring your own simulator"): newline-terminated
/// ASCII lines of space-separated tokens, numbers in decimal (anything C's strtod reads; Python's
/// `repr(float)` round-trips), flags 0 or 1.
///
///     plant → edge-ctl (handshake, any order between the first line and `ready`):
///       edge-plant 1
///       observation N LOW_1 .. LOW_N HIGH_1 .. HIGH_N      bounds may be -inf / inf
///       action M LOW_1 .. LOW_M HIGH_1 .. HIGH_M           finite, LOW < HIGH
///       episode STEPS                                      the plant's time limit
///       period SECONDS                                     optional, 0 (the default): not paced
///       name TEXT                                          optional
///       ready
///     edge-ctl → plant:  reset SEED          plant → edge-ctl:  obs O_1 .. O_N
///     edge-ctl → plant:  step A_1 .. A_M     plant → edge-ctl:  obs O_1 .. O_N reward R done D truncated T
///     edge-ctl → plant:  close               (the plant exits with status 0; end of file means the same)
///     plant → edge-ctl, instead of any answer:  error TEXT   (edge-ctl stops and shows TEXT)
///
/// Actions go out in the plant's units, inside [LOW, HIGH]. Parsing reads a line in place and writes
/// into caller-owned storage: the per-step path allocates nothing.
public enum PlantProtocol {
    /// The protocol version this build speaks (the handshake's first line).
    public static let version = 1
    /// The largest observation or action size a handshake may declare (the dataset schema stores 8 bits).
    public static let maxSize = 255
    /// A plant's line may hold at most this many bytes.
    public static let maxLineBytes = 65_536
    /// Scale used for an observation dimension whose declared bound is infinite or beyond ±1e6: the
    /// networks see that observation divided by 10. A plant that knows its range should send it.
    public static let unboundedObservationScale: Float = 10

    /// What `expected` texts say about each answer.
    static let expectedObservation = "'obs' followed by the observation values"
    static let expectedStepReply = "'obs O_1 .. O_N reward R done 0|1 truncated 0|1'"
}

/// A plant as its handshake describes it.
public struct PlantDescription: Equatable, Sendable {
    public var observationLow: [Float] = []
    public var observationHigh: [Float] = []
    public var actionLow: [Float] = []
    public var actionHigh: [Float] = []
    /// The plant's own time limit: episodes end after this many steps at the latest.
    public var episodeSteps = 0
    /// Seconds of plant time per step; 0 when the plant is not paced (a simulator).
    public var periodSeconds: Double = 0
    /// The plant's name for itself ("" when it sent none).
    public var name = ""

    public init() {}

    public var observationSize: Int { observationLow.count }
    public var actionSize: Int { actionLow.count }

    /// Per-dimension scale that maps observations to about [-1, 1] for the networks: max(|low|, |high|)
    /// of the declared box; `PlantProtocol.unboundedObservationScale` where that is infinite or beyond
    /// ±1e6, and 1 where both bounds are 0.
    public var observationBounds: [Float] {
        (0..<observationSize).map { d in
            let b = max(abs(observationLow[d]), abs(observationHigh[d]))
            if !b.isFinite || b > 1e6 { return PlantProtocol.unboundedObservationScale }
            return b > 0 ? b : 1
        }
    }
}

/// The tokens of one line, read in place (spaces and tabs separate them).
struct LineTokens {
    let line: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ line: UnsafeBufferPointer<UInt8>) { self.line = line }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 32 || byte == 9 }

    /// The next token, or nil at the end of the line.
    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        while position < line.count && Self.isSpace(line[position]) { position += 1 }
        guard position < line.count else { return nil }
        let start = position
        while position < line.count && !Self.isSpace(line[position]) { position += 1 }
        return UnsafeBufferPointer(rebasing: line[start..<position])
    }

    /// Everything after the current position, without leading spaces.
    mutating func rest() -> String {
        while position < line.count && Self.isSpace(line[position]) { position += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: line[position...]), as: UTF8.self)
    }

    /// Tokens left on the line (does not move).
    func remainingCount() -> Int {
        var copy = self, n = 0
        while copy.next() != nil { n += 1 }
        return n
    }
}

extension PlantProtocol {
    /// Whether `token` is exactly `keyword`.
    static func matches(_ token: UnsafeBufferPointer<UInt8>, _ keyword: StaticString) -> Bool {
        guard token.count == keyword.utf8CodeUnitCount else { return false }
        let k = keyword.utf8Start
        for i in 0..<token.count where token[i] != k[i] { return false }
        return true
    }

    /// Text of received bytes for a message: at most 80 bytes, control bytes shown as '?'.
    static func shown(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let limit = 80
        var clean = [UInt8]()
        clean.reserveCapacity(min(bytes.count, limit) + 3)
        for b in bytes.prefix(limit) { clean.append(b < 32 || b == 127 ? 63 : b) }
        if bytes.count > limit { clean += [46, 46, 46] }
        return String(decoding: clean, as: UTF8.self)
    }

    /// Parses a number token; NaN and infinities are errors unless `allowInfinity` (then ±inf pass but
    /// NaN still fails).
    static func number(_ token: UnsafeBufferPointer<UInt8>, what: @autoclosure () -> String,
                       allowInfinity: Bool = false) throws(ExternalPlantError.Fault) -> Double {
        var value: Double = 0
        let ok = token.withMemoryRebound(to: CChar.self) { edge_parse_double($0.baseAddress!, $0.count, &value) }
        guard ok == 1 else { throw .notANumber(what: what(), token: shown(token)) }
        if value.isNaN || (value.isInfinite && !allowInfinity) { throw .notFinite(what: what(), token: shown(token)) }
        return value
    }

    /// Parses a non-negative integer token.
    static func count(_ token: UnsafeBufferPointer<UInt8>, what: String) throws(ExternalPlantError.Fault) -> Int {
        var n = 0
        guard token.count > 0, token.count <= 9 else { throw .badHandshake(what + " '" + shown(token) + "' is not a whole number") }
        for b in token {
            guard b >= 48 && b <= 57 else { throw .badHandshake(what + " '" + shown(token) + "' is not a whole number") }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    /// Parses a 0/1 flag token.
    static func flag(_ token: UnsafeBufferPointer<UInt8>?, what: String) throws(ExternalPlantError.Fault) -> Bool {
        guard let token else { throw .badFlag(what: what, token: "") }
        if token.count == 1 && token[0] == 48 { return false }
        if token.count == 1 && token[0] == 49 { return true }
        throw .badFlag(what: what, token: shown(token))
    }

    /// If the line is `error TEXT`, the fault that reports it.
    static func reportedError(_ line: UnsafeBufferPointer<UInt8>) -> ExternalPlantError.Fault? {
        var tokens = LineTokens(line)
        guard let first = tokens.next(), matches(first, "error") else { return nil }
        let text = tokens.rest()
        return .plantReported(text.isEmpty ? "(no text)" : text)
    }

    /// Reads `obs O_1 .. O_count` from the front of `tokens` into `observation`.
    static func readObservation(_ tokens: inout LineTokens, count: Int, into observation: UnsafeMutablePointer<Float>,
                                expected: String) throws(ExternalPlantError.Fault) {
        guard let first = tokens.next(), matches(first, "obs") else {
            throw .unexpected(got: shown(tokens.line), expected: expected)
        }
        // Count the values up to `reward` (or the end) before parsing, so a short or long observation
        // is reported as such, and a stray word among the values as not a number.
        var probe = tokens, values = 0
        while let t = probe.next(), !matches(t, "reward") { values += 1 }
        guard values == count else { throw .wrongCount(what: "observation", got: values, expected: count) }
        for d in 0..<count {
            let token = tokens.next()!
            let value = Float(try number(token, what: "observation value \(d + 1)"))
            guard value.isFinite else { throw .notFinite(what: "observation value \(d + 1)", token: shown(token)) }
            observation[d] = value
        }
    }

    /// Parses the answer to `reset`: `obs O_1 .. O_count`.
    public static func parseResetReply(_ line: UnsafeBufferPointer<UInt8>, count: Int,
                                       into observation: UnsafeMutablePointer<Float>) throws(ExternalPlantError.Fault) {
        if let reported = reportedError(line) { throw reported }
        var tokens = LineTokens(line)
        try readObservation(&tokens, count: count, into: observation, expected: expectedObservation)
        if tokens.next() != nil { throw .unexpected(got: shown(line), expected: expectedObservation + " and nothing else") }
    }

    /// Parses the answer to `step`: `obs O_1 .. O_count reward R done D truncated T`.
    public static func parseStepReply(_ line: UnsafeBufferPointer<UInt8>, count: Int,
                                      into observation: UnsafeMutablePointer<Float>)
        throws(ExternalPlantError.Fault) -> (reward: Float, done: Bool, truncated: Bool) {
        if let reported = reportedError(line) { throw reported }
        var tokens = LineTokens(line)
        try readObservation(&tokens, count: count, into: observation, expected: expectedStepReply)
        guard let r = tokens.next(), matches(r, "reward"), let rewardToken = tokens.next() else {
            throw .unexpected(got: shown(line), expected: expectedStepReply)
        }
        let reward = try Float(number(rewardToken, what: "reward"))
        guard reward.isFinite else { throw .notFinite(what: "reward", token: shown(rewardToken)) }
        guard let d = tokens.next(), matches(d, "done") else { throw .unexpected(got: shown(line), expected: expectedStepReply) }
        let done = try flag(tokens.next(), what: "done")
        guard let t = tokens.next(), matches(t, "truncated") else {
            throw .unexpected(got: shown(line), expected: expectedStepReply)
        }
        let truncated = try flag(tokens.next(), what: "truncated")
        if tokens.next() != nil { throw .unexpected(got: shown(line), expected: expectedStepReply + " and nothing else") }
        return (reward, done, truncated)
    }

    /// Writes `reset SEED\n` into `buffer`; returns its length.
    public static func formatReset(seed: UInt64, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for b in "reset ".utf8 { buffer[n] = b; n += 1 }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: UInt64.max has 20 digits
        let count = withUnsafeMutableBytes(of: &digits) { raw -> Int in
            var value = seed, k = 0
            repeat { raw[k] = UInt8(48 + value % 10); value /= 10; k += 1 } while value > 0
            for i in 0..<k { buffer[n + i] = raw[k - 1 - i] }
            return k
        }
        n += count
        buffer[n] = 10
        return n + 1
    }

    /// Bytes `formatStep` may write for `count` actions.
    public static func stepCapacity(actions count: Int) -> Int { 8 + 32 * count }

    /// Writes `step A_1 .. A_count\n` (each `%.9g`, which round-trips a Float) into `buffer`, which
    /// holds `stepCapacity(actions: count)` bytes; returns the length.
    public static func formatStep(action: UnsafePointer<Float>, count: Int, into buffer: UnsafeMutablePointer<UInt8>) -> Int {
        var n = 0
        for b in "step".utf8 { buffer[n] = b; n += 1 }
        for d in 0..<count {
            buffer[n] = 32
            n += 1
            n += buffer.advanced(by: n).withMemoryRebound(to: CChar.self, capacity: 31) {
                Int(edge_format_double($0, 31, Double(action[d]), 9))
            }
        }
        buffer[n] = 10
        return n + 1
    }
}

/// Reads a handshake one line at a time.
public struct HandshakeParser {
    public private(set) var description = PlantDescription()
    var sawVersion = false, sawObservation = false, sawAction = false, sawEpisode = false
    var sawPeriod = false, sawName = false

    public init() {}

    /// What edge-ctl waits for next (for timeout and end-of-file messages).
    public var waitingFor: String {
        sawVersion ? "the rest of the handshake (up to 'ready')" : "the handshake's first line 'edge-plant \(PlantProtocol.version)'"
    }

    /// Takes one line; returns true after `ready` (the description is then complete and checked).
    public mutating func consume(_ line: UnsafeBufferPointer<UInt8>) throws(ExternalPlantError.Fault) -> Bool {
        if let reported = PlantProtocol.reportedError(line) { throw reported }
        var tokens = LineTokens(line)
        guard let key = tokens.next() else {
            throw .unexpected(got: "", expected: sawVersion ? "a handshake line" : "'edge-plant \(PlantProtocol.version)'")
        }
        if !sawVersion {
            guard PlantProtocol.matches(key, "edge-plant"), let version = tokens.next() else {
                throw .unexpected(got: PlantProtocol.shown(line), expected: "the handshake's first line 'edge-plant \(PlantProtocol.version)'")
            }
            guard PlantProtocol.matches(version, "1") else { throw .unsupportedVersion(PlantProtocol.shown(version)) }
            guard tokens.next() == nil else {
                throw .unexpected(got: PlantProtocol.shown(line), expected: "the handshake's first line 'edge-plant \(PlantProtocol.version)'")
            }
            sawVersion = true
            return false
        }
        if PlantProtocol.matches(key, "observation") {
            try once(&sawObservation, "observation")
            (description.observationLow, description.observationHigh) = try box(&tokens, what: "observation", finite: false)
        } else if PlantProtocol.matches(key, "action") {
            try once(&sawAction, "action")
            (description.actionLow, description.actionHigh) = try box(&tokens, what: "action", finite: true)
        } else if PlantProtocol.matches(key, "episode") {
            try once(&sawEpisode, "episode")
            guard let token = tokens.next(), tokens.next() == nil else { throw .badHandshake("'episode' takes one whole number of steps") }
            description.episodeSteps = try PlantProtocol.count(token, what: "episode length")
            guard description.episodeSteps >= 1 else { throw .badHandshake("episode length must be at least 1 step") }
        } else if PlantProtocol.matches(key, "period") {
            try once(&sawPeriod, "period")
            guard let token = tokens.next(), tokens.next() == nil else { throw .badHandshake("'period' takes one number of seconds") }
            description.periodSeconds = try PlantProtocol.number(token, what: "the control period")
            guard description.periodSeconds >= 0 else { throw .badHandshake("the control period must not be negative") }
        } else if PlantProtocol.matches(key, "name") {
            try once(&sawName, "name")
            description.name = tokens.rest()
        } else if PlantProtocol.matches(key, "ready") {
            guard sawObservation else { throw .badHandshake("no 'observation' line before 'ready'") }
            guard sawAction else { throw .badHandshake("no 'action' line before 'ready'") }
            guard sawEpisode else { throw .badHandshake("no 'episode' line before 'ready'") }
            return true
        } else {
            throw .unexpected(got: PlantProtocol.shown(line),
                              expected: "a handshake line (observation, action, episode, period, name or ready)")
        }
        return false
    }

    func once(_ seen: inout Bool, _ key: String) throws(ExternalPlantError.Fault) {
        if seen { throw .badHandshake("'" + key + "' appears twice") }
        seen = true
    }

    /// `N LOW_1 .. LOW_N HIGH_1 .. HIGH_N` with LOW ≤ HIGH (LOW < HIGH and finite for actions).
    func box(_ tokens: inout LineTokens, what: String, finite: Bool) throws(ExternalPlantError.Fault) -> ([Float], [Float]) {
        guard let sizeToken = tokens.next() else { throw .badHandshake("'" + what + "' needs a size and the bounds") }
        let n = try PlantProtocol.count(sizeToken, what: what + " size")
        guard n >= 1 && n <= PlantProtocol.maxSize else {
            throw .badHandshake(what + " size \(n) is outside 1...\(PlantProtocol.maxSize)")
        }
        let given = tokens.remainingCount()
        guard given == 2 * n else {
            throw .badHandshake("'" + what + " \(n)' needs \(2 * n) bounds (\(n) lows, then \(n) highs), got \(given)")
        }
        var low = [Float](), high = [Float]()
        for d in 0..<(2 * n) {
            let token = tokens.next()!
            let isLow = d < n
            let value = try PlantProtocol.number(token, what: what + (isLow ? " low bound \(d + 1)" : " high bound \(d - n + 1)"),
                                                 allowInfinity: !finite)
            if isLow { low.append(Float(value)) } else { high.append(Float(value)) }
        }
        for d in 0..<n {
            if finite ? !(low[d] < high[d]) : !(low[d] <= high[d]) {
                throw .badHandshake(what + " dimension \(d + 1): low bound " + formatFloat(low[d]) + " is not below high bound "
                                    + formatFloat(high[d]))
            }
        }
        return (low, high)
    }
}
