import Foundation
import Testing

/// Compiles `Sources/CEdgeSys/edge_gpiod.c` with -DEDGE_CHECK_GPIOD_HEADER against a real <gpiod.h>:
/// the file then static-asserts that every libgpiod function it loads with dlsym has the header's
/// signature, and that the v1 structs and all constants it mirrors match. A v1 header (Debian 12's
/// libgpiod-dev 1.6) checks the v1 list, a v2 header the v2 list.
enum GpiodHeaderCheck {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let source = packageRoot.appendingPathComponent("Sources/CEdgeSys/edge_gpiod.c")
    static let includeDirectory = packageRoot.appendingPathComponent("Sources/CEdgeSys/include")

    /// The C compiler on PATH, if any.
    static let compiler: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/cc" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    static let systemHeaderPresent = FileManager.default.fileExists(atPath: "/usr/include/gpiod.h")

    /// A directory holding a libgpiod v2 gpiod.h (e.g. from Debian 13's libgpiod-dev), if given.
    static let v2IncludeDirectory = ProcessInfo.processInfo.environment["EDGE_GPIOD_V2_INCLUDE"]

    /// Runs `cc -fsyntax-only` on `file`; returns the exit status and stderr.
    static func syntaxCheck(_ file: URL, extraIncludes: [String] = []) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler ?? "/usr/bin/cc")
        process.arguments = ["-std=c11", "-fsyntax-only", "-DEDGE_CHECK_GPIOD_HEADER", "-I", includeDirectory.path]
            + extraIncludes.flatMap { ["-I", $0] } + [file.path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

@Suite("libgpiod signatures against gpiod.h")
struct LibgpiodHeaderCheckTests {
    @Test("Every libgpiod function, struct and constant edge_gpiod.c uses matches /usr/include/gpiod.h",
          .enabled(if: GpiodHeaderCheck.compiler != nil && GpiodHeaderCheck.systemHeaderPresent,
                   "needs cc and /usr/include/gpiod.h (apt install libgpiod-dev)"))
    func systemHeaderMatches() throws {
        let result = try GpiodHeaderCheck.syntaxCheck(GpiodHeaderCheck.source)
        #expect(result.status == 0, "\(result.errors)")
        #expect(!result.errors.contains("error"))
    }

    @Test("A signature that differs from gpiod.h fails the check and names the function",
          .enabled(if: GpiodHeaderCheck.compiler != nil && GpiodHeaderCheck.systemHeaderPresent,
                   "needs cc and /usr/include/gpiod.h (apt install libgpiod-dev)"))
    func mismatchIsCaught() throws {
        // Change the value parameter of the set-value call in both lists (v1 and v2): whichever list the
        // installed header checks must now fail.
        var text = try String(contentsOf: GpiodHeaderCheck.source, encoding: .utf8)
        let v1 = "X(line_set_value, int, (struct gpiod_line *line, int value))"
        let v2 = "X(line_request_set_value, int, (struct gpiod_line_request *request, unsigned int offset,"
        #expect(text.contains(v1) && text.contains(v2))
        text = text.replacingOccurrences(of: v1, with: "X(line_set_value, int, (struct gpiod_line *line, long value))")
        text = text.replacingOccurrences(of: v2, with: "X(line_request_set_value, int, (struct gpiod_line_request *request, unsigned long offset,")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("edge_gpiod_mismatch_\(getpid()).c")
        try text.write(to: copy, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: copy) }
        let result = try GpiodHeaderCheck.syntaxCheck(copy)
        #expect(result.status != 0)
        #expect(result.errors.contains("gpiod_line_set_value: the signature in edge_gpiod.c does not match gpiod.h")
            || result.errors.contains("gpiod_line_request_set_value: the signature in edge_gpiod.c does not match gpiod.h"))
    }

    @Test("The v2 list matches a libgpiod 2.x gpiod.h (directory in $EDGE_GPIOD_V2_INCLUDE)",
          .enabled(if: GpiodHeaderCheck.compiler != nil && GpiodHeaderCheck.v2IncludeDirectory != nil,
                   "set EDGE_GPIOD_V2_INCLUDE to a directory with libgpiod 2.x's gpiod.h"))
    func v2HeaderMatches() throws {
        let directory = try #require(GpiodHeaderCheck.v2IncludeDirectory)
        let header = try String(contentsOfFile: directory + "/gpiod.h", encoding: .utf8)
        #expect(header.contains("gpiod_line_settings_new"), "not a v2 header")
        let result = try GpiodHeaderCheck.syntaxCheck(GpiodHeaderCheck.source, extraIncludes: [directory])
        #expect(result.status == 0, "\(result.errors)")
    }
}
