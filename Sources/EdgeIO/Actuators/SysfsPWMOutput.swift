import CEdgeSys

/// A hardware PWM channel through /sys/class/pwm/pwmchipN/pwmM (exported on first use).
/// The duty_cycle file stays open, so a duty change is one write(2) with no allocation; period and
/// enable are opened per write (set-up only).
public final class SysfsPWMOutput: PWMOutput {
    public let name: String
    /// "/sys/class/pwm/pwmchipN/pwmM".
    public let directory: String
    private let dutyFD: Int32

    /// Exports channel `channel` of `pwmchip<chip>` if needed and opens its duty_cycle file.
    /// `root` is "/sys/class/pwm" on a board. Throws noSuchChip (ENOENT: no such pwmchip or the
    /// overlay is not loaded), permissionDenied (EACCES: add the user to the gpio group / udev rule).
    public init(chip: Int, channel: Int, root: String = "/sys/class/pwm") throws(LineError) {
        name = "pwmchip\(chip)/pwm\(channel)"
        let chipDirectory = root + "/pwmchip\(chip)"
        directory = chipDirectory + "/pwm\(channel)"
        var fd = openForWriting(directory + "/duty_cycle")
        if fd < 0 {
            let exportResult = writeNumber(Int64(channel), toFile: chipDirectory + "/export")
            if exportResult < 0 { throw sysfsError(-exportResult, path: chipDirectory, call: "export") }
            fd = openForWriting(directory + "/duty_cycle")
            if fd < 0 { throw sysfsError(-fd, path: directory, call: "open duty_cycle") }
        }
        dutyFD = fd
    }

    deinit { _ = edge_file_close(dutyFD) }

    public func setPeriodNs(_ periodNs: Int64) throws(LineError) {
        let result = writeNumber(periodNs, toFile: directory + "/period")
        if result < 0 { throw sysfsError(-result, path: name, call: "write period") }
    }

    public func setDutyCycleNs(_ dutyNs: Int64) throws(LineError) {
        let result = writeNumber(dutyNs, toFD: dutyFD)
        if result < 0 { throw sysfsError(-result, path: name, call: "write duty_cycle") }
    }

    public func setEnabled(_ enabled: Bool) throws(LineError) {
        let result = writeNumber(enabled ? 1 : 0, toFile: directory + "/enable")
        if result < 0 { throw sysfsError(-result, path: name, call: "write enable") }
    }
}

/// Maps a sysfs errno to the shared error type, naming the path.
private func sysfsError(_ code: Int32, path: String, call: String) -> LineError {
    switch code {
    case LineErrno.noEntry: return .noSuchChip(chip: path)
    case LineErrno.accessDenied: return .permissionDenied(chip: path)
    default: return .system(chip: path, offset: nil, errno: code, call: call)
    }
}

/// Opens an existing sysfs attribute for writing: fd, or -errno. (Opening read-write with O_CREAT
/// cannot create files in sysfs, so a missing attribute still fails with ENOENT.)
private func openForWriting(_ path: String) -> Int32 {
    path.withCString { edge_file_open_rw($0) }
}

/// Writes `value` as decimal text to a whole file: 0 or -errno.
private func writeNumber(_ value: Int64, toFile path: String) -> Int32 {
    let fd = openForWriting(path)
    if fd < 0 { return fd }
    let result = writeNumber(value, toFD: fd)
    _ = edge_file_close(fd)
    return result
}

/// Writes `value` as decimal text plus newline to an open sysfs attribute, without allocating.
/// (sysfs ignores the file position, so repeated writes to one fd each replace the value.)
private func writeNumber(_ value: Int64, toFD fd: Int32) -> Int32 {
    var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: sign, 19 digits, newline
    return withUnsafeMutableBytes(of: &digits) { raw -> Int32 in
        var end = raw.count
        end -= 1
        raw[end] = UInt8(ascii: "\n")
        var magnitude = value.magnitude
        repeat {
            end -= 1
            raw[end] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            end -= 1
            raw[end] = UInt8(ascii: "-")
        }
        return edge_file_write_all(fd, raw.baseAddress! + end, raw.count - end)
    }
}
