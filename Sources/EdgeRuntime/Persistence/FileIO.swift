import CEdgeSys

/// A failed file operation: which file, what was being done, and the errno.
public struct FileError: Error, Equatable {
    public var path: String
    public var operation: String
    /// errno, or 0 for a format problem described in `detail`.
    public var code: Int32
    /// What was wrong with the contents (format errors), empty for system errors.
    public var detail: String

    public init(path: String, operation: String, code: Int32, detail: String = "") {
        self.path = path
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    /// One line naming the file, e.g. `cannot write /data/log.bin: No space left on device (errno 28)`.
    public var message: String {
        if code == 0 { return "\(path): \(detail)" }
        return "cannot \(operation) \(path): \(errnoDescription(code)) (errno \(code))" + (detail.isEmpty ? "" : "; \(detail)")
    }
}

/// strerror for an errno value.
public func errnoDescription(_ code: Int32) -> String {
    var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &buffer) { raw -> String in
        let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
        edge_strerror(code, base, raw.count)
        var n = 0
        while n < raw.count && base[n] != 0 { n += 1 }
        return String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: n), as: UTF8.self)
    }
}

/// An open file descriptor that closes itself. Thin: every call maps to one POSIX call.
public final class FileHandle {
    public let path: String
    let fd: Int32
    private var closed = false

    public enum Mode { case read, readWrite, createTruncate }

    public init(path: String, mode: Mode) throws(FileError) {
        self.path = path
        let rc: Int32 = path.withCString { p in
            switch mode {
            case .read: return edge_file_open_read(p)
            case .readWrite: return edge_file_open_rw(p)
            case .createTruncate: return edge_file_create(p)
            }
        }
        if rc < 0 { throw FileError(path: path, operation: mode == .read ? "open" : "open for writing", code: -rc) }
        fd = rc
    }

    deinit { if !closed { _ = edge_file_close(fd) } }

    public func size() throws(FileError) -> Int {
        let n = edge_file_size(fd)
        if n < 0 { throw FileError(path: path, operation: "stat", code: Int32(-n)) }
        return Int(n)
    }

    /// Reads the whole file.
    public func readAll() throws(FileError) -> [UInt8] {
        let n = try size()
        var bytes = [UInt8](repeating: 0, count: n)
        var done = 0
        while done < n {
            let got = bytes.withUnsafeMutableBytes { raw in
                edge_file_pread(fd, raw.baseAddress! + done, n - done, Int64(done))
            }
            if got < 0 { throw FileError(path: path, operation: "read", code: Int32(-got)) }
            if got == 0 { break }
            done += Int(got)
        }
        if done < n { bytes.removeLast(n - done) }
        return bytes
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let rc = edge_file_write_all(fd, base, bytes.count)
        if rc < 0 { throw FileError(path: path, operation: "write", code: -rc) }
    }

    public func write(_ bytes: [UInt8]) throws(FileError) {
        let rc = bytes.withUnsafeBytes { raw in
            raw.count == 0 ? 0 : edge_file_write_all(fd, raw.baseAddress!, raw.count)
        }
        if rc < 0 { throw FileError(path: path, operation: "write", code: -rc) }
    }

    public func seekToEnd() throws(FileError) {
        let rc = edge_file_seek_end(fd)
        if rc < 0 { throw FileError(path: path, operation: "seek", code: Int32(-rc)) }
    }

    public func truncate(to length: Int) throws(FileError) {
        let rc = edge_file_truncate(fd, Int64(length))
        if rc < 0 { throw FileError(path: path, operation: "truncate", code: -rc) }
    }

    public func sync() throws(FileError) {
        let rc = edge_file_sync(fd)
        if rc < 0 { throw FileError(path: path, operation: "sync", code: -rc) }
    }

    public func close() throws(FileError) {
        guard !closed else { return }
        closed = true
        let rc = edge_file_close(fd)
        if rc < 0 { throw FileError(path: path, operation: "close", code: -rc) }
    }
}

/// Directory and path operations.
public enum FileSystem {
    public static func createDirectory(_ path: String) throws(FileError) {
        let rc = path.withCString { edge_dir_create($0) }
        if rc < 0 { throw FileError(path: path, operation: "create directory", code: -rc) }
    }

    public static func syncDirectory(_ path: String) throws(FileError) {
        let rc = path.withCString { edge_dir_sync($0) }
        if rc < 0 { throw FileError(path: path, operation: "sync directory", code: -rc) }
    }

    public static func rename(_ from: String, to: String) throws(FileError) {
        let rc = from.withCString { f in to.withCString { t in edge_file_rename(f, t) } }
        if rc < 0 { throw FileError(path: to, operation: "rename \(from) to", code: -rc) }
    }

    public static func remove(_ path: String) {
        _ = path.withCString { edge_file_remove($0) }
    }

    public static func exists(_ path: String) -> Bool {
        let fd = path.withCString { edge_file_open_read($0) }
        if fd >= 0 { _ = edge_file_close(fd); return true }
        return fd != -2  // ENOENT
    }

    /// The directory part of a path ("." for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Joins a directory and a name.
    public static func join(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// Writes `bytes` to `path` atomically: temp file, fsync, rename, directory fsync. After a crash the
    /// file holds either the old contents or the new ones, never a mix.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileError) {
        let temporary = path + ".tmp"
        let file = try FileHandle(path: temporary, mode: .createTruncate)
        do {
            try file.write(bytes)
            try file.sync()
            try file.close()
        } catch {
            remove(temporary)
            throw error
        }
        try rename(temporary, to: path)
        try syncDirectory(directory(of: path))
    }
}
