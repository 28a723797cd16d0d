// Shared by every harness (compiled into each): the check that turns "a bad input got an unclear error"
// into a crash libFuzzer reports, and a scratch directory in RAM for the harnesses that go through files.
import Glibc

/// Stops the run (libFuzzer saves the input) when `condition` is false: a bad input must give a clear,
/// one-line error that names the file, and a good one must read back consistently.
func require(_ condition: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !condition() {
        fputs("fuzz check failed: \(what())\n", stderr)
        abort()
    }
}

/// A clear error: one non-empty line that names `path`.
func requireClearError(_ message: String, naming path: String) {
    require(!message.isEmpty, "empty error message")
    require(!message.utf8.contains(10), "error message spans lines: \(message)")
    require(message.contains(path), "error message does not name \(path): \(message)")
}

/// Like `requireClearError`, and no control character either (for messages that quote file contents).
func requireClearBinaryError(_ message: String, naming path: String) {
    requireClearError(message, naming: path)
    require(!message.utf8.contains { $0 < 0x20 || $0 == 0x7F }, "control character in error message: \(message)")
}

/// A per-process scratch directory on tmpfs (/dev/shm) when there is one, else /tmp.
func scratchDirectory(_ name: String) -> String {
    let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    let path = "\(base)/edge-fuzz-\(name)-\(getpid())"
    mkdir(path, 0o755)
    return path
}

/// Writes `bytes` to `path` (replacing it).
func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    require(fd >= 0, "cannot create \(path)")
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
        require(n > 0, "cannot write \(path)")
        done += n
    }
    close(fd)
}

/// CRC-32 (IEEE, the one the persisted files use), for the harnesses' "fix the checksums" mode.
func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return ~c
}

func putU32(_ v: UInt32, into bytes: inout [UInt8], at offset: Int) {
    for i in 0..<4 { bytes[offset + i] = UInt8((v >> UInt32(8 * i)) & 0xFF) }
}

func putU64(_ v: UInt64, into bytes: inout [UInt8], at offset: Int) {
    for i in 0..<8 { bytes[offset + i] = UInt8((v >> UInt64(8 * i)) & 0xFF) }
}

func getU32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    var v: UInt32 = 0
    for i in 0..<4 { v |= UInt32(bytes[offset + i]) << UInt32(8 * i) }
    return v
}
