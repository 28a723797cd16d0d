import EdgeIO
import Foundation
import Testing

/// A fake /sys/class/pwm: `pwmchipN/device` symlinks to controller names, as the kernel lays them out
/// (the targets need not exist: only the link text is read).
struct FakePWMClass {
    let root: String

    init(chips: [Int: String]) throws {
        root = NSTemporaryDirectory() + "edge-ctl-pwm-" + UUID().uuidString
        let files = FileManager.default
        try files.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (number, controller) in chips {
            let chip = root + "/pwmchip\(number)"
            try files.createDirectory(atPath: chip, withIntermediateDirectories: true)
            try files.createSymbolicLink(atPath: chip + "/device", withDestinationPath: "../../../" + controller)
            files.createFile(atPath: chip + "/export", contents: nil)
            files.createFile(atPath: chip + "/npwm", contents: Data("2\n".utf8))
        }
    }

    /// Creates `pwmchipN/pwmM` with empty period, duty_cycle and enable files (an exported channel).
    func addChannel(chip: Int, channel: Int) throws {
        let directory = root + "/pwmchip\(chip)/pwm\(channel)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in ["period", "duty_cycle", "enable"] {
            FileManager.default.createFile(atPath: directory + "/" + file, contents: nil)
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }
}

@Suite("Hardware PWM controller lookup")
struct PWMControllerLookupTests {
    /// A Pi-like tree: an unrelated chip first, the board's controller as pwmchip2, another as pwmchip10
    /// (numeric order, not text order), and a name that only looks like a pwmchip.
    func makeTree() throws -> FakePWMClass {
        let tree = try FakePWMClass(chips: [0: "fe00b840.mailbox/raspberrypi-pwm", 2: "fe20c000.pwm",
                                            10: "1f00098000.pwm"])
        try FileManager.default.createDirectory(atPath: tree.root + "/pwmchipX", withIntermediateDirectories: true)
        return tree
    }

    @Test("the pwmchip whose device link ends in the board file's controller is found, whatever its number")
    func found() throws {
        let tree = try makeTree()
        defer { tree.remove() }
        let entries = try PWMControllerLookup.entries(root: tree.root)
        #expect(entries.map(\.number) == [0, 2, 10])
        #expect(entries[1].deviceTarget == "../../../fe20c000.pwm")
        let rpi4 = try ShippedBoards.load("rpi4").pwm!
        let rpi5 = try ShippedBoards.load("rpi5").pwm!
        #expect(try PWMControllerLookup.chipNumber(for: rpi4, root: tree.root) == 2)
        #expect(try PWMControllerLookup.chipNumber(for: rpi5, root: tree.root) == 10)
        #expect(!PWMControllerLookup.target("../../../fe20c000.pwm", names: "20c000.pwm"),
                "a controller matches a whole path component, not part of one")
        #expect(PWMControllerLookup.target("fe20c000.pwm", names: "fe20c000.pwm"))
    }

    @Test("opening the channel goes to the found pwmchip and writes period, enable and duty there")
    func opensFoundChip() throws {
        let tree = try makeTree()
        defer { tree.remove() }
        try tree.addChannel(chip: 2, channel: 0)
        let rpi4 = try ShippedBoards.load("rpi4")
        let channel = rpi4.pwm!.channel(forPin: rpi4.rig(.pendulum)!.pin(for: .pwm)!.pin)!
        #expect(channel == 0)
        let output = try SysfsPWMChannels(root: tree.root).open(rpi4.pwm!, channel: channel)
        var drive = try HardwarePWMDrive(output: output, periodNs: 40_000)
        try drive.setDuty(0.25)
        #expect(output.name == "pwmchip2/pwm0")
        #expect(try String(contentsOfFile: tree.root + "/pwmchip2/pwm0/period", encoding: .utf8) == "40000\n")
        #expect(try String(contentsOfFile: tree.root + "/pwmchip2/pwm0/enable", encoding: .utf8) == "1\n")
        // A regular file keeps every write of the open duty_cycle descriptor (sysfs would replace it).
        #expect(try String(contentsOfFile: tree.root + "/pwmchip2/pwm0/duty_cycle", encoding: .utf8) == "0\n10000\n")
    }

    @Test("a missing controller is an ENOENT that names it, the overlay to enable and what to list")
    func missingController() throws {
        let tree = try makeTree()
        defer { tree.remove() }
        let zero2w = try ShippedBoards.load("zero2w").pwm!
        var failure: LineError?
        do { _ = try PWMControllerLookup.chipNumber(for: zero2w, root: tree.root) } catch { failure = error }
        let error = try #require(failure)
        #expect(error.errno == ENOENT)
        #expect(error.chip == tree.root)
        #expect(error.message.contains("hardware PWM controller 3f20c000.pwm not found"))
        #expect(error.message.contains("found pwmchip0 -> raspberrypi-pwm, pwmchip2 -> fe20c000.pwm, pwmchip10 -> 1f00098000.pwm"))
        #expect(error.message.contains("enable it (dtoverlay=pwm-2chan in /boot/firmware/config.txt (/boot/config.txt before bookworm)) and reboot"))
        #expect(error.message.contains("ls -l \(tree.root)/*/device"))
    }

    @Test("no PWM class directory at all reads as no controller, not as a crash")
    func noPWMClass() throws {
        let rpi4 = try ShippedBoards.load("rpi4").pwm!
        let root = NSTemporaryDirectory() + "edge-ctl-no-pwm-" + UUID().uuidString
        #expect(try PWMControllerLookup.entries(root: root).isEmpty)
        var failure: LineError?
        do { _ = try SysfsPWMChannels(root: root).open(rpi4, channel: 0) } catch { failure = error }
        #expect(failure?.errno == ENOENT)
        #expect(failure?.message.contains("there is no \(root)/pwmchip*") == true)
        #expect(failure?.message.contains("dtparam=audio=off") == true)
    }

    @Test("an unreadable PWM class directory is EACCES naming it", .enabled(if: geteuid() != 0, "root reads any directory: EACCES cannot be reproduced"))
    func unreadable() throws {
        let tree = try makeTree()
        defer {
            chmod(tree.root, 0o755)
            tree.remove()
        }
        #expect(chmod(tree.root, 0) == 0)
        let rpi4 = try ShippedBoards.load("rpi4").pwm!
        var failure: LineError?
        do { _ = try PWMControllerLookup.chipNumber(for: rpi4, root: tree.root) } catch { failure = error }
        #expect(failure == .permissionDenied(chip: tree.root))
    }
}
