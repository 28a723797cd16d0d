// The C library functions the board binary needs that neither Embedded Swift (there is no Glibc module
// for the aarch64-none-none-elf target) nor the C shim provide yet. Requested for CEdgeSys as
// `edge_exit` and a C definition of `_swift_stdlib_strtof_clocale`; this file goes when they land.
// The `@_silgen_name` declarations use the Swift calling convention, which for these signatures
// (pointer and 32-bit integer arguments, a Float result) passes every value in the same register as
// the C convention does on aarch64 and x86-64.

/// exit(3): flushes standard output and ends the process with `status`.
@_silgen_name("exit")
func exitProcess(_ status: Int32) -> Never

#if hasFeature(Embedded)
@_silgen_name("strtof")
func strtof(_ text: UnsafePointer<CChar>, _ end: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Float

/// The runtime hook behind `Float(String)` (used by `--set key=value` and config files). Embedded Swift
/// 6.3 calls it but only the full Swift runtime defines it (swiftlang/swift#83459; 6.4 parses in Swift).
/// Same contract as the runtime's: parse with the C locale (this program never calls setlocale), store
/// the value, return where the number ends; `Float(String)` accepts the text only if that is its end.
@_cdecl("_swift_stdlib_strtof_clocale")
func swiftStdlibStrtofCLocale(_ text: UnsafePointer<CChar>, _ result: UnsafeMutablePointer<Float>) -> UnsafePointer<CChar>? {
    var end: UnsafeMutablePointer<CChar>?
    result.pointee = strtof(text, &end)
    return end.map { UnsafePointer($0) }
}
#endif
