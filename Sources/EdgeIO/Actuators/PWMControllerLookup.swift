import CEdgeSys

/// Finds a board's hardware PWM controller among `/sys/class/pwm/pwmchipN` by what the chip IS, not by
/// its number: `pwmchipN/device` is a symlink to the controller's device (e.g.
/// `../../../fe20c000.pwm` on a Pi 4), and the kernel numbers pwmchips in probe order, which changes
/// with overlays and kernels (as gpiochip numbers do). Board files name the controller
/// (`HardwarePWM.controller`).
public enum PWMControllerLookup {
    /// One `pwmchipN` and where its `device` link points ("" when the link cannot be read).
    public struct Entry: Equatable, Sendable {
        public var number: Int
        public var deviceTarget: String
        public init(number: Int, deviceTarget: String) {
            self.number = number
            self.deviceTarget = deviceTarget
        }
    }

    /// The `pwmchipN` entries of `root` with their device link targets, by N. Throws when `root`
    /// cannot be listed (ENOENT: no PWM subsystem or no controller enabled; EACCES).
    public static func entries(root: String = "/sys/class/pwm") throws(LineError) -> [Entry] {
        var numbers = [Int32](repeating: 0, count: 64)
        let count = numbers.withUnsafeMutableBufferPointer { buffer in
            root.withCString { edge_sysfs_list_numbered($0, "pwmchip", buffer.baseAddress, Int32(buffer.count)) }
        }
        if count < 0 {
            if -count == LineErrno.accessDenied { throw .permissionDenied(chip: root) }
            return []  // no /sys/class/pwm at all: the same as no controller
        }
        var result: [Entry] = []
        for index in 0..<Int(count) {
            let number = Int(numbers[index])
            result.append(Entry(number: number, deviceTarget: readLink(root + "/pwmchip\(number)/device") ?? ""))
        }
        return result
    }

    /// Whether a `device` link target names `controller`: its last path component is `controller`
    /// (`../../../fe20c000.pwm` or `.../soc/fe20c000.pwm`).
    public static func target(_ target: String, names controller: String) -> Bool {
        guard !controller.isEmpty else { return false }
        return target == controller || target.hasSuffix("/" + controller)
    }

    /// N of the `pwmchipN` under `root` whose device is `pwm.controller`. Throws a `LineError` whose
    /// message names the controller, how to enable it (the board file's `setup`) and what to look at
    /// (`ls -l ROOT/*/device`), listing what is there instead.
    public static func chipNumber(for pwm: HardwarePWM, root: String = "/sys/class/pwm") throws(LineError) -> Int {
        let found = try entries(root: root)
        if let match = found.first(where: { target($0.deviceTarget, names: pwm.controller) }) {
            return match.number
        }
        throw notFound(pwm, root: root, found: found)
    }

    /// The error for a controller that no `pwmchipN` under `root` belongs to.
    public static func notFound(_ pwm: HardwarePWM, root: String, found: [Entry]) -> LineError {
        let there = found.isEmpty
            ? "there is no \(root)/pwmchip*"
            : "found " + found.map { "pwmchip\($0.number) -> \($0.deviceTarget.isEmpty ? "?" : lastComponent($0.deviceTarget))" }
                .joined(separator: ", ")
        let enable = pwm.setup.isEmpty ? "enable the controller's overlay and reboot"
            : "enable it (\(pwm.setup)) and reboot"
        return .system(chip: root, offset: nil, errno: LineErrno.noEntry,
                       call: "hardware PWM controller \(pwm.controller) not found (\(there)): \(enable), "
                           + "then check `ls -l \(root)/*/device`; looking it up")
    }

    static func lastComponent(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    /// The target of the symlink at `path`, or nil.
    static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = buffer.withUnsafeMutableBufferPointer { pointer in
            path.withCString { edge_sysfs_readlink($0, pointer.baseAddress, pointer.count) }
        }
        guard length >= 0 else { return nil }
        return String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Opens the hardware PWM channel that drives a motor: the way a board plant gets its duty-cycle
/// output (sysfs on a board; tests substitute outputs that also move a simulated rig).
public protocol PWMChannelOpener {
    associatedtype Output: PWMOutput
    /// Opens `channel` of the controller `pwm` describes.
    func open(_ pwm: HardwarePWM, channel: Int) throws(LineError) -> Output
}

/// Channels under `/sys/class/pwm` (or `root`), the controller found by `PWMControllerLookup`.
public struct SysfsPWMChannels: PWMChannelOpener {
    public let root: String

    public init(root: String = "/sys/class/pwm") {
        self.root = root
    }

    /// Finds `pwmchipN` for `pwm.controller`, exports `channel` if needed and opens it.
    public func open(_ pwm: HardwarePWM, channel: Int) throws(LineError) -> SysfsPWMOutput {
        let chip = try PWMControllerLookup.chipNumber(for: pwm, root: root)
        return try SysfsPWMOutput(chip: chip, channel: channel, root: root)
    }
}
