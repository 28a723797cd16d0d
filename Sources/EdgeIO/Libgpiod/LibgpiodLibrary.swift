import CEdgeSys

/// libgpiod, loaded with dlopen when first needed (DESIGN.md section 5), so the same binary runs on
/// Debian 12 / Raspberry Pi OS bookworm (libgpiod 1.6, `libgpiod.so.2`, v1 API) and on Debian 13
/// (libgpiod 2.x, `libgpiod.so.3`, v2 API), and `--sim` needs no libgpiod at all.
/// Owns the dlopen handle; chips keep their library alive.
public final class LibgpiodLibrary {
    let handle: OpaquePointer
    /// 1 (libgpiod 1.x) or 2 (libgpiod 2.x).
    public let apiVersion: Int
    /// The library's version string, e.g. "1.6.3".
    public let version: String
    /// What was loaded, e.g. "libgpiod.so.2" or the path given.
    public let name: String

    private init(handle: OpaquePointer) {
        self.handle = handle
        apiVersion = Int(edge_gpiod_library_api(handle))
        version = cString(edge_gpiod_library_version(handle))
        name = cString(edge_gpiod_library_name(handle))
    }

    /// Loads libgpiod. `path` nil tries `$EDGE_LIBGPIOD`, then libgpiod.so.3, then libgpiod.so.2.
    /// Throws `libraryUnavailable` naming what was tried and why it failed.
    public static func load(path: String? = nil) throws(LineError) -> LibgpiodLibrary {
        var reason = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        let status: Int32 = reason.withUnsafeMutableBufferPointer { buffer in
            if let path {
                return path.withCString { edge_gpiod_library_open($0, &handle, buffer.baseAddress, buffer.count) }
            }
            return edge_gpiod_library_open(nil, &handle, buffer.baseAddress, buffer.count)
        }
        guard status == 0, let handle else {
            let detail = reason.withUnsafeBufferPointer { cString($0.baseAddress) }
            throw .libraryUnavailable(name: "libgpiod (\(detail))")
        }
        return LibgpiodLibrary(handle: handle)
    }

    /// "libgpiod 1.6.3 (v1 API, libgpiod.so.2)".
    public var summary: String {
        "libgpiod \(version) (v\(apiVersion) API, \(name))"
    }

    deinit {
        edge_gpiod_library_close(handle)
    }
}

/// A Swift string from a C string (empty for NULL).
func cString(_ pointer: UnsafePointer<CChar>?) -> String {
    guard let pointer else { return "" }
    return String(cString: pointer)
}
