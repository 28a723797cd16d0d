import EdgeIO
import Foundation
import Testing

/// The libgpiod builds the error-path tests run against: the one the default search finds
/// (libgpiod.so.3, else libgpiod.so.2) and, when `$EDGE_LIBGPIOD_V2` names one, a libgpiod 2.x.
enum LibgpiodUnderTest {
    static let systemName = "default search"

    static let names: [String] = {
        var names: [String] = []
        if (try? LibgpiodLibrary.load()) != nil { names.append(systemName) }
        if let v2 = ProcessInfo.processInfo.environment["EDGE_LIBGPIOD_V2"], !v2.isEmpty { names.append(v2) }
        return names
    }()

    static func load(_ name: String) throws -> LibgpiodLibrary {
        try LibgpiodLibrary.load(path: name == systemName ? nil : name)
    }

    /// The error `body` throws, or nil.
    static func error<T>(_ body: () throws(LineError) -> T) -> LineError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    /// A fresh empty directory for fake device files.
    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("edge-gpiod-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }
}


@Suite("libgpiod backend without GPIO hardware")
struct LibgpiodBackendTests {
    @Test("libgpiod is loaded at run time and reports its API version",
          .enabled(if: !LibgpiodUnderTest.names.isEmpty, "libgpiod.so.2/.so.3 not installed"),
          arguments: LibgpiodUnderTest.names)
    func loads(name: String) throws {
        let library = try LibgpiodUnderTest.load(name)
        #expect([1, 2].contains(library.apiVersion))
        #expect(library.version.hasPrefix(library.apiVersion == 1 ? "1." : "2."))
        #expect(library.summary == "libgpiod \(library.version) (v\(library.apiVersion) API, \(library.name))")
    }

    @Test("A library that cannot be loaded is libraryUnavailable, naming it and the fix")
    func missingLibrary() {
        let error = LibgpiodUnderTest.error { () throws(LineError) in try LibgpiodLibrary.load(path: "/nonexistent/libgpiod.so.9") }
        guard case .libraryUnavailable(let name)? = error else {
            Issue.record("expected libraryUnavailable, got \(String(describing: error))")
            return
        }
        #expect(name.contains("/nonexistent/libgpiod.so.9"))
        #expect(error?.errno == 0)
        #expect(error?.message.contains("install libgpiod") == true)
        #expect(error?.message.contains("--sim") == true)
    }

    #if os(Linux)
    @Test("A shared library that is not libgpiod is refused")
    func notLibgpiod() {
        let error = LibgpiodUnderTest.error { () throws(LineError) in try LibgpiodLibrary.load(path: "libc.so.6") }
        #expect(error == .libraryUnavailable(
            name: "libgpiod (libc.so.6 is not libgpiod (no gpiod_line_request or gpiod_line_settings_new))"))
    }
    #endif

    @Test("Chip devices are the gpiochipN entries of the directory, sorted by N")
    func chipPaths() throws {
        let directory = try LibgpiodUnderTest.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["gpiochip10", "gpiochip2", "gpiochip0", "gpiochipX", "gpiochip", "gpiomem", "null"] {
            #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent(name).path, contents: Data()))
        }
        #expect(LibgpiodBackend.chipPaths(in: directory.path) == ["0", "2", "10"].map { directory.path + "/gpiochip" + $0 })
        #expect(LibgpiodBackend.chipPaths(in: directory.path + "/missing") == [])
    }

    @Test("Opening a chip path that does not exist is noSuchChip (ENOENT) naming the path",
          .enabled(if: !LibgpiodUnderTest.names.isEmpty, "libgpiod.so.2/.so.3 not installed"),
          arguments: LibgpiodUnderTest.names)
    func noSuchChipPath(name: String) throws {
        let directory = try LibgpiodUnderTest.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = LibgpiodBackend(library: try LibgpiodUnderTest.load(name), deviceDirectory: directory.path)
        let path = directory.path + "/gpiochip7"
        let error = LibgpiodUnderTest.error { () throws(LineError) in try backend.openChip(path: path) }
        #expect(error == .noSuchChip(chip: path))
        #expect(error?.errno == 2)
        #expect(error?.message.contains(path) == true)
    }

    @Test("A file that is not a GPIO character device is refused with the library's errno, naming it",
          .enabled(if: !LibgpiodUnderTest.names.isEmpty, "libgpiod.so.2/.so.3 not installed"),
          arguments: LibgpiodUnderTest.names)
    func notAChip(name: String) throws {
        let directory = try LibgpiodUnderTest.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try LibgpiodUnderTest.load(name)
        let backend = LibgpiodBackend(library: library, deviceDirectory: directory.path)
        let regular = directory.path + "/gpiochip0"
        #expect(FileManager.default.createFile(atPath: regular, contents: Data("not a chip".utf8)))
        let fileError = LibgpiodUnderTest.error { () throws(LineError) in try backend.openChip(path: regular) }
        #expect(fileError?.errno == LibgpiodErrors.notATTY)
        #expect(fileError?.chip == regular)
        #expect(fileError?.message.contains("not a /dev/gpiochipN device") == true)

        // /dev/null is a character device, but not a GPIO chip: v1 says ENOTTY, v2 ENODEV.
        let null = directory.path + "/gpiochip1"
        try FileManager.default.createSymbolicLink(atPath: null, withDestinationPath: "/dev/null")
        let nullError = LibgpiodUnderTest.error { () throws(LineError) in try backend.openChip(path: null) }
        #expect(nullError?.errno == (library.apiVersion == 1 ? LibgpiodErrors.notATTY : LineErrno.noDevice))
        #expect(nullError?.chip == null)

        // Looking up a label skips what is not a chip and reports the label.
        let byLabel = LibgpiodUnderTest.error { () throws(LineError) in try backend.openChip(label: "pinctrl-bcm2711") }
        #expect(byLabel == .noSuchChip(chip: "pinctrl-bcm2711"))
    }

    @Test("Looking up a label with no chip devices at all is noSuchChip naming the label",
          .enabled(if: !LibgpiodUnderTest.names.isEmpty, "libgpiod.so.2/.so.3 not installed"),
          arguments: LibgpiodUnderTest.names)
    func noChipsAtAll(name: String) throws {
        let directory = try LibgpiodUnderTest.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let library = try LibgpiodUnderTest.load(name)
        for path in [directory.path, directory.path + "/missing"] {
            let backend = LibgpiodBackend(library: library, deviceDirectory: path)
            let error = LibgpiodUnderTest.error { () throws(LineError) in try backend.openChip(label: "pinctrl-rp1") }
            #expect(error == .noSuchChip(chip: "pinctrl-rp1"))
            #expect(error?.message.hasPrefix("no GPIO chip 'pinctrl-rp1' (ENOENT)") == true)
        }
    }

    @Test("Probing the rpi4 board on a machine without GPIO chips fails naming pinctrl-bcm2711",
          .enabled(if: !LibgpiodUnderTest.names.isEmpty, "libgpiod.so.2/.so.3 not installed"),
          .enabled(if: LibgpiodBackend.chipPaths(in: "/dev").isEmpty, "this machine has /dev/gpiochip devices"),
          arguments: LibgpiodUnderTest.names)
    func probeWithoutHardware(name: String) throws {
        let board = try ShippedBoards.load("rpi4")
        let backend = LibgpiodBackend(library: try LibgpiodUnderTest.load(name))
        let error = LibgpiodUnderTest.error { () throws(LineError) in try BoardProbe.probe(board, backend: backend) }
        #expect(error == .noSuchChip(chip: "pinctrl-bcm2711"))
        #expect(error?.message.contains("'pinctrl-bcm2711'") == true)
    }
}

@Suite("libgpiod errno to LineError")
struct LibgpiodErrnoTests {
    let chip = "pinctrl-bcm2711"

    @Test("EBUSY names the chip, the line and who holds it")
    func busy() {
        let error = LibgpiodErrors.line(16, chip: chip, offset: 17, call: "request lines") { "pigpiod" }
        #expect(error == .lineBusy(chip: chip, offset: 17, consumer: "pigpiod"))
        #expect(error.message.hasPrefix("pinctrl-bcm2711 line 17 is busy (EBUSY), held by 'pigpiod'"))
    }

    @Test("EPERM, EINVAL, ENODEV, ENXIO and EACCES each map to their own case with the chip and line")
    func otherErrnos() {
        var asked = 0
        let consumer: () -> String = { asked += 1; return "" }
        #expect(LibgpiodErrors.line(1, chip: chip, offset: 18, call: "set value", consumer: consumer)
            == .setOnInput(chip: chip, offset: 18))
        let invalid = LibgpiodErrors.line(22, chip: chip, offset: 17, call: "request lines", consumer: consumer)
        #expect(invalid.errno == 22)
        #expect(invalid.offset == 17)
        #expect(invalid.message.hasPrefix("pinctrl-bcm2711 line 17: invalid flags (EINVAL)"))
        #expect(LibgpiodErrors.line(19, chip: chip, offset: 5, call: "request lines", consumer: consumer)
            == .noDevice(chip: chip, offset: 5, errno: 19))
        let noIRQ = LibgpiodErrors.line(6, chip: chip, offset: 5, call: "request lines", consumer: consumer)
        #expect(noIRQ == .noDevice(chip: chip, offset: 5, errno: 6))
        #expect(noIRQ.message.contains("pinctrl-bcm2711 line 5"))
        #expect(LibgpiodErrors.line(13, chip: chip, offset: 5, call: "request lines", consumer: consumer)
            == .permissionDenied(chip: chip))
        #expect(LibgpiodErrors.line(5, chip: chip, offset: 5, call: "read edge events", consumer: consumer)
            == .system(chip: chip, offset: 5, errno: 5, call: "read edge events"))
        #expect(asked == 0)
    }

    @Test("Chip open errors: ENOENT, EACCES and 'not a GPIO chip' name the path")
    func chipOpen() {
        #expect(LibgpiodErrors.chipOpen(2, path: "/dev/gpiochip4") == .noSuchChip(chip: "/dev/gpiochip4"))
        let denied = LibgpiodErrors.chipOpen(13, path: "/dev/gpiochip0")
        #expect(denied == .permissionDenied(chip: "/dev/gpiochip0"))
        #expect(denied.message.contains("gpio group"))
        let notChip = LibgpiodErrors.chipOpen(LibgpiodErrors.notATTY, path: "/dev/null")
        #expect(notChip.errno == 25)
        #expect(notChip.message.hasPrefix("open as a GPIO chip (not a /dev/gpiochipN device) failed on /dev/null"))
    }
}
