// The line I/O protocol: the seam between the code that uses GPIO lines (sensors, actuators,
// runtime) and the two backends that provide them (libgpiod through dlopen, and FirmwareSim's
// simulated chip). Used through generics only (no existentials), errors are typed.
//
// Semantics follow the Linux GPIO character device as libgpiod exposes it:
// - Values are logical: active-low inverts both what `getValue`/`setValue` see and the edge kinds.
// - Each input line has an event queue in the kernel (v1: 16 events per line; v2: one queue per
//   request, 16 per line by default). When a queue is full the NEWEST event is dropped.
// - The kernel timestamps an edge in the hard interrupt (CLOCK_MONOTONIC) but, with both edges
//   requested, decides rising/falling later by reading the line level, so `isRising` is unreliable
//   on fast edges. Consumers should treat each event as a toggle of its line.
// - v2 numbers events per line and per request (`lineSequence`, `globalSequence`, from 1), so a
//   gap reveals dropped events. v1 has no numbers: both are 0.

/// Linux errno values the line backends report (identical on x86-64 and aarch64 Linux).
/// Spelled out here because Embedded Swift has no Glibc module.
public enum LineErrno {
    public static let notPermitted: Int32 = 1        // EPERM
    public static let noEntry: Int32 = 2             // ENOENT
    public static let noDeviceOrAddress: Int32 = 6   // ENXIO
    public static let accessDenied: Int32 = 13       // EACCES
    public static let busy: Int32 = 16               // EBUSY
    public static let noDevice: Int32 = 19           // ENODEV
    public static let invalidArgument: Int32 = 22    // EINVAL
}

/// Why a line operation failed: the cause (with its errno), the chip and, where there is one, the line.
/// `message` is one line that names both and says how to fix it.
public enum LineError: Error, Equatable, Sendable {
    /// EBUSY: the line is already requested, by this program or another (`consumer` if known).
    case lineBusy(chip: String, offset: UInt32, consumer: String)
    /// EPERM: `setValue` on a line that was requested as an input.
    case setOnInput(chip: String, offset: UInt32)
    /// EINVAL: a flag combination the kernel refuses (two biases, open-drain with open-source,
    /// edge detection on an output, drive flags on an input, default count mismatch).
    case invalidFlags(chip: String, offset: UInt32, reason: String)
    /// EINVAL: the offset is not below the chip's line count.
    case offsetOutOfRange(chip: String, offset: UInt32, lineCount: Int)
    /// EINVAL: the offset exists on the chip but is not part of this request.
    case lineNotRequested(chip: String, offset: UInt32)
    /// ENOENT: no chip has this label or path.
    case noSuchChip(chip: String)
    /// EACCES: no permission to open the chip.
    case permissionDenied(chip: String)
    /// ENODEV or ENXIO: the chip disappeared, or the line cannot deliver edge interrupts.
    case noDevice(chip: String, offset: UInt32?, errno: Int32)
    /// The backend's library could not be loaded (e.g. no libgpiod.so.2 / .so.3).
    case libraryUnavailable(name: String)
    /// Any other failure of the named call, with its errno.
    case system(chip: String, offset: UInt32?, errno: Int32, call: String)

    /// The errno this error corresponds to (0 for `libraryUnavailable`).
    public var errno: Int32 {
        switch self {
        case .lineBusy: return LineErrno.busy
        case .setOnInput: return LineErrno.notPermitted
        case .invalidFlags, .offsetOutOfRange, .lineNotRequested: return LineErrno.invalidArgument
        case .noSuchChip: return LineErrno.noEntry
        case .permissionDenied: return LineErrno.accessDenied
        case .noDevice(_, _, let code), .system(_, _, let code, _): return code
        case .libraryUnavailable: return 0
        }
    }

    /// The chip label or path the operation was on ("" for `libraryUnavailable`).
    public var chip: String {
        switch self {
        case .lineBusy(let chip, _, _), .setOnInput(let chip, _), .invalidFlags(let chip, _, _),
             .offsetOutOfRange(let chip, _, _), .lineNotRequested(let chip, _), .noSuchChip(let chip),
             .permissionDenied(let chip), .noDevice(let chip, _, _), .system(let chip, _, _, _):
            return chip
        case .libraryUnavailable: return ""
        }
    }

    /// The line offset involved, if the failure concerns one line.
    public var offset: UInt32? {
        switch self {
        case .lineBusy(_, let offset, _), .setOnInput(_, let offset), .invalidFlags(_, let offset, _),
             .offsetOutOfRange(_, let offset, _), .lineNotRequested(_, let offset):
            return offset
        case .noDevice(_, let offset, _), .system(_, let offset, _, _): return offset
        case .noSuchChip, .permissionDenied, .libraryUnavailable: return nil
        }
    }

    /// One line: what failed, on which chip and line, and the fix.
    public var message: String {
        switch self {
        case .lineBusy(let chip, let offset, let consumer):
            let who = consumer.isEmpty ? "another user" : "'\(consumer)'"
            return "\(chip) line \(offset) is busy (EBUSY), held by \(who): release it or stop that program (see gpioinfo)"
        case .setOnInput(let chip, let offset):
            return "\(chip) line \(offset) is an input (EPERM): request it as an output to set it"
        case .invalidFlags(let chip, let offset, let reason):
            return "\(chip) line \(offset): invalid flags (EINVAL): \(reason)"
        case .offsetOutOfRange(let chip, let offset, let lineCount):
            return "\(chip) has no line \(offset) (EINVAL): offsets go from 0 to \(lineCount - 1); check the board file"
        case .lineNotRequested(let chip, let offset):
            return "\(chip) line \(offset) is not part of this request (EINVAL): add it to the request"
        case .noSuchChip(let chip):
            return "no GPIO chip '\(chip)' (ENOENT): check the label with gpiodetect and the board file"
        case .permissionDenied(let chip):
            return "no permission to open \(chip) (EACCES): add the user to the gpio group or run as root"
        case .noDevice(let chip, let offset, let code):
            let line = offset.map { " line \($0)" } ?? ""
            return "\(chip)\(line): no device (errno \(code)): the chip went away or the line has no edge interrupt; pick another line"
        case .libraryUnavailable(let name):
            return "cannot load \(name): install libgpiod (apt install libgpiod2 or libgpiod3) or use --sim"
        case .system(let chip, let offset, let code, let call):
            let line = offset.map { " line \($0)" } ?? ""
            return "\(call) failed on \(chip)\(line) (errno \(code))"
        }
    }
}

/// Request flags, as the kernel's line flags. Direction comes from the request call
/// (`requestInputs` / `requestOutputs`); the backend rejects invalid combinations with EINVAL.
public struct LineFlags: OptionSet, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Logical value is the inverse of the physical level (values and edge kinds).
    public static let activeLow = LineFlags(rawValue: 1 << 0)
    public static let biasPullUp = LineFlags(rawValue: 1 << 1)
    public static let biasPullDown = LineFlags(rawValue: 1 << 2)
    public static let biasDisabled = LineFlags(rawValue: 1 << 3)
    /// Outputs only.
    public static let openDrain = LineFlags(rawValue: 1 << 4)
    /// Outputs only.
    public static let openSource = LineFlags(rawValue: 1 << 5)
    /// Inputs only: queue an event on each logical rising edge.
    public static let edgeRising = LineFlags(rawValue: 1 << 6)
    /// Inputs only: queue an event on each logical falling edge.
    public static let edgeFalling = LineFlags(rawValue: 1 << 7)
    /// Both edges (the encoder setting).
    public static let edgeBoth: LineFlags = [.edgeRising, .edgeFalling]

    /// The reason the kernel refuses this combination for the given direction, or nil if it is valid.
    /// Both backends call this before touching the hardware, so their EINVAL cases agree.
    public func invalidReason(forOutput: Bool) -> String? {
        let biases = (contains(.biasPullUp) ? 1 : 0) + (contains(.biasPullDown) ? 1 : 0)
            + (contains(.biasDisabled) ? 1 : 0)
        if biases > 1 { return "choose one of pull-up, pull-down, bias-disabled" }
        if contains(.openDrain) && contains(.openSource) { return "open-drain and open-source exclude each other" }
        if forOutput && !intersection(.edgeBoth).isEmpty { return "edge detection needs an input line" }
        if !forOutput && !intersection([.openDrain, .openSource]).isEmpty {
            return "open-drain/open-source need an output line"
        }
        return nil
    }
}

/// One edge event read from a request. Plain data: read into caller-owned buffers.
public struct EdgeEvent: Equatable, Sendable {
    /// Line offset on the chip.
    public var offset: UInt32
    /// Logical rising edge. Decided late by the kernel from the level: unreliable on fast edges.
    public var isRising: Bool
    /// When the edge interrupt fired, on the clock `LineChip.nowNs()` reads (CLOCK_MONOTONIC).
    public var timestampNs: Int64
    /// v2: 1, 2, 3, ... per line; a gap means dropped events. v1: always 0.
    public var lineSequence: UInt64
    /// v2: 1, 2, 3, ... per request across its lines. v1: always 0.
    public var globalSequence: UInt64

    public init(offset: UInt32, isRising: Bool, timestampNs: Int64, lineSequence: UInt64 = 0,
                globalSequence: UInt64 = 0) {
        self.offset = offset
        self.isRising = isRising
        self.timestampNs = timestampNs
        self.lineSequence = lineSequence
        self.globalSequence = globalSequence
    }
}

/// Most lines one request may hold: the kernel's limit (GPIO_V2_LINES_MAX and v1's GPIOHANDLES_MAX),
/// so `getValues` fits them in one 64-bit word. Both backends refuse more with EINVAL.
public let maxLinesPerRequest = 64

/// Why a request of `lineCount` lines is refused (EINVAL), or nil: both backends check this first.
public func requestSizeProblem(lineCount: Int) -> String? {
    if lineCount == 0 { return "request at least one line" }
    if lineCount > maxLinesPerRequest { return "a request holds at most \(maxLinesPerRequest) lines" }
    return nil
}

/// A set of lines requested together (libgpiod v1 bulk request / v2 line request).
/// Handles behave like references: copies refer to the same request. Call `release` once.
public protocol LineRequest {
    /// The requested offsets, in request order.
    var offsets: [UInt32] { get }

    /// Logical value of one requested line (inputs and outputs).
    /// Throws `lineNotRequested` if `offset` is not in this request.
    func getValue(_ offset: UInt32) throws(LineError) -> Bool

    /// Logical values of all requested lines in one read: bit k is `offsets[k]` (a request holds at
    /// most `maxLinesPerRequest` lines). A quadrature pair's two levels are one read: one ioctl with
    /// libgpiod v2 (v1 requests its lines one by one, so it reads them one by one).
    func getValues() throws(LineError) -> UInt64

    /// Sets the logical value of one output line. Throws `setOnInput` (EPERM) on an input request,
    /// `lineNotRequested` if `offset` is not in this request.
    func setValue(_ offset: UInt32, _ value: Bool) throws(LineError)

    /// Waits up to `timeoutNs` for at least one pending edge event; returns whether one is pending.
    /// `timeoutNs` 0 polls. The simulated chip never blocks: its time only moves when the rig advances.
    func waitEvents(timeoutNs: Int64) throws(LineError) -> Bool

    /// Moves pending events into `buffer` without blocking or allocating; returns how many.
    /// Events of one line come in time order; across lines the order is unspecified (v1 reads
    /// line by line), so consumers merge by `timestampNs`. Returns 0 when nothing is pending.
    func readEvents(into buffer: UnsafeMutableBufferPointer<EdgeEvent>) throws(LineError) -> Int

    /// Gives the lines back (outputs keep their last value, as the kernel does). Idempotent.
    func release()
}

/// One GPIO chip, opened by a `LineBackend`.
public protocol LineChip {
    associatedtype Request: LineRequest

    /// Kernel name, e.g. "gpiochip0" (the simulated chip uses its label).
    var name: String { get }
    /// Label, e.g. "pinctrl-bcm2711" or "edge-sim".
    var label: String { get }
    /// Number of lines; valid offsets are 0..<lineCount.
    var lineCount: Int { get }

    /// Now, on the clock event timestamps use (CLOCK_MONOTONIC; the simulated chip's virtual clock).
    func nowNs() -> Int64

    /// Requests `offsets` as inputs. `flags` may hold a bias, edge detection and active-low.
    /// `eventBufferSize` is the v2 request's queue size (0: kernel default of 16 per line);
    /// v1 always queues 16 per line. Throws lineBusy (EBUSY), invalidFlags / offsetOutOfRange (EINVAL).
    func requestInputs(_ offsets: [UInt32], flags: LineFlags, consumer: String,
                       eventBufferSize: Int) throws(LineError) -> Request

    /// Requests `offsets` as outputs driven to `defaults` (logical, one per offset).
    /// `flags` may hold a bias, open-drain/open-source and active-low. Same errors as `requestInputs`.
    func requestOutputs(_ offsets: [UInt32], defaults: [Bool], flags: LineFlags,
                        consumer: String) throws(LineError) -> Request

    /// Closes the chip. Requests made from it must be released first.
    func close()
}

extension LineChip {
    /// Requests inputs with the kernel's default event buffer size.
    @inlinable
    public func requestInputs(_ offsets: [UInt32], flags: LineFlags,
                              consumer: String) throws(LineError) -> Request {
        try requestInputs(offsets, flags: flags, consumer: consumer, eventBufferSize: 0)
    }
}

/// Where chips come from: libgpiod (v1 or v2, loaded at run time) or FirmwareSim.
public protocol LineBackend {
    associatedtype Chip: LineChip

    /// Opens the chip whose label is `label` (stable across kernels, unlike gpiochipN numbers).
    /// Throws noSuchChip (ENOENT) if none has it.
    func openChip(label: String) throws(LineError) -> Chip

    /// Opens a chip by device path, e.g. "/dev/gpiochip0". Throws noSuchChip, permissionDenied.
    func openChip(path: String) throws(LineError) -> Chip
}
