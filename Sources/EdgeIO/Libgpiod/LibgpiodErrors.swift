/// Turns an errno from libgpiod or the kernel into the `LineError` case that names the chip, the line
/// and the fix. One place, so every call reports the same cause the same way; public so tests can
/// check each errno's case and message without hardware.
public enum LibgpiodErrors {
    /// ENOTTY: the file is not a GPIO character device (libgpiod's check of the device).
    public static let notATTY: Int32 = 25
    /// EISDIR: a directory was given as a chip path.
    public static let isADirectory: Int32 = 21
    /// EBADF: the chip was already closed.
    public static let badDescriptor: Int32 = 9

    /// The error for opening the chip file at `path`.
    public static func chipOpen(_ errno: Int32, path: String) -> LineError {
        switch errno {
        case LineErrno.noEntry: return .noSuchChip(chip: path)
        case LineErrno.accessDenied, LineErrno.notPermitted: return .permissionDenied(chip: path)
        case notATTY, isADirectory, LineErrno.noDevice:
            return .system(chip: path, offset: nil, errno: errno, call: "open as a GPIO chip (not a /dev/gpiochipN device)")
        default: return .system(chip: path, offset: nil, errno: errno, call: "gpiod_chip_open")
        }
    }

    /// The error for a call on `offset` of the chip labelled `chip`. `consumer` is asked only for EBUSY.
    public static func line(_ errno: Int32, chip: String, offset: UInt32, call: String,
                            consumer: () -> String) -> LineError {
        switch errno {
        case LineErrno.busy: return .lineBusy(chip: chip, offset: offset, consumer: consumer())
        case LineErrno.notPermitted: return .setOnInput(chip: chip, offset: offset)
        case LineErrno.invalidArgument:
            return .invalidFlags(chip: chip, offset: offset,
                                 reason: "the kernel refused the settings (bias needs Linux 5.5+; edge detection needs a line with an interrupt)")
        case LineErrno.noDevice, LineErrno.noDeviceOrAddress:
            return .noDevice(chip: chip, offset: offset, errno: errno)
        case LineErrno.accessDenied: return .permissionDenied(chip: chip)
        default: return .system(chip: chip, offset: offset, errno: errno, call: call)
        }
    }
}
