import CEdgeSys

/// Real GPIO chips through libgpiod. Chips are found by label: every `gpiochipN` in `deviceDirectory`
/// is opened and its label read, because the number of a given chip changes between kernels and
/// boards (the Pi 5 header chip was gpiochip4, then gpiochip0).
public struct LibgpiodBackend: LineBackend {
    public let library: LibgpiodLibrary
    /// Where the chip devices are ("/dev"; tests point it elsewhere).
    public let deviceDirectory: String

    public init(library: LibgpiodLibrary, deviceDirectory: String = "/dev") {
        self.library = library
        self.deviceDirectory = deviceDirectory
    }

    /// Loads libgpiod (see `LibgpiodLibrary.load`) and uses the chips in `/dev`.
    public init() throws(LineError) {
        self.init(library: try LibgpiodLibrary.load())
    }

    /// Paths of the `gpiochipN` devices in `directory`, sorted by N (empty when there are none or no
    /// such directory). Needs no libgpiod.
    public static func chipPaths(in directory: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 16_384)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            directory.withCString { edge_gpiod_list_chip_paths($0, pointer.baseAddress, pointer.count) }
        }
        var paths: [String] = []
        var start = 0
        for index in buffer.indices where buffer[index] == 0 && paths.count < Int(count) {
            paths.append(String(decoding: buffer[start..<index].map { UInt8(bitPattern: $0) }, as: UTF8.self))
            start = index + 1
        }
        return paths
    }

    /// Every chip device as "label (path)", or "path (the error)" when it cannot be opened; empty when
    /// there are none. For messages that say what is there when the wanted label is not.
    public func availableChips() -> [String] {
        var chips: [String] = []
        for path in LibgpiodBackend.chipPaths(in: deviceDirectory) {
            do {
                let chip = try openChip(path: path)
                chips.append("\(chip.label) (\(path))")
                chip.close()
            } catch {
                chips.append("\(path) (\(error.message))")
            }
        }
        return chips
    }

    public func openChip(label: String) throws(LineError) -> LibgpiodChip {
        var deniedPath: String?
        for path in LibgpiodBackend.chipPaths(in: deviceDirectory) {
            let chip: LibgpiodChip
            do {
                chip = try openChip(path: path)
            } catch {
                if case .permissionDenied = error, deniedPath == nil { deniedPath = path }
                continue
            }
            if chip.label == label { return chip }
            chip.close()
        }
        // A chip we could not open may be the one: say so rather than "not found".
        if let deniedPath { throw .permissionDenied(chip: "\(deniedPath) (looking for '\(label)')") }
        throw .noSuchChip(chip: label)
    }

    public func openChip(path: String) throws(LineError) -> LibgpiodChip {
        var handle: OpaquePointer?
        let status = path.withCString { edge_gpiod_chip_open(library.handle, $0, &handle) }
        guard status == 0, let handle else { throw LibgpiodErrors.chipOpen(-status, path: path) }
        return LibgpiodChip(library: library, handle: handle, path: path)
    }
}
