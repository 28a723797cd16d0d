import CEdgeSys

/// The lane type of every kernel: eight Floats, one AVX register on x86-64 and two NEON registers on
/// aarch64. Buffers that kernels read as vectors are padded to a multiple of `Vec.scalarCount`.
public typealias Vec = SIMD8<Float>

/// Number of Floats in one `Vec`.
public let vecWidth = 8

/// Rounds `n` up to the next multiple of the vector width.
@inlinable @inline(__always)
public func paddedToVec(_ n: Int) -> Int { (n + 7) & ~7 }

/// `a * b + c`, fused where the target has FMA.
///
/// On aarch64 FMA is always there. On x86-64 it is only used when the build enabled it (EDGE_FMA,
/// set by Package.swift for x86-64-v3): without the CPU flag LLVM lowers `addingProduct` to one libm
/// `fmaf` call per lane, about 80x slower (DESIGN.md section 3), so plain multiply + add is used instead.
@inlinable @inline(__always)
public func madd(_ a: Vec, _ b: Vec, _ c: Vec) -> Vec {
    #if arch(arm64) || EDGE_FMA
    return c.addingProduct(a, b)
    #else
    return a * b + c
    #endif
}

/// Which SIMD path this build compiled, for benchmarks and `--help` output.
public let simdPath: String = {
    #if arch(arm64)
    return "aarch64 NEON, fused multiply-add, 8-lane vectors"
    #elseif EDGE_FMA
    return "x86-64-v3 AVX2, fused multiply-add, 8-lane vectors"
    #elseif arch(x86_64)
    return "x86-64 baseline SSE2, multiply + add (no FMA: CPU lacks AVX2/FMA or EDGE_TARGET_CPU=generic)"
    #else
    return "generic, multiply + add, 8-lane vectors"
    #endif
}()

@inlinable @inline(__always)
public func loadVec(_ p: UnsafePointer<Float>, _ offset: Int) -> Vec {
    UnsafeRawPointer(p + offset).loadUnaligned(as: Vec.self)
}

@inlinable @inline(__always)
public func loadVec(_ p: UnsafeMutablePointer<Float>, _ offset: Int) -> Vec {
    UnsafeRawPointer(p + offset).loadUnaligned(as: Vec.self)
}

@inlinable @inline(__always)
public func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>, _ offset: Int) {
    UnsafeMutableRawPointer(p + offset).storeBytes(of: v, as: Vec.self)
}

/// Sum of the eight lanes by pairwise halving (`.sum()` can compile to a serial scalar chain).
@inlinable @inline(__always)
public func horizontalSum(_ v: Vec) -> Float {
    let a = v.lowHalf + v.highHalf
    let b = a.lowHalf + a.highHalf
    return b[0] + b[1]
}

/// Allocates `count` Floats aligned to 64 bytes, zeroed. The caller owns the memory.
@inlinable
public func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
    let n = max(paddedToVec(count), vecWidth)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
    let p = raw.bindMemory(to: Float.self, capacity: n)
    p.initialize(repeating: 0, count: n)
    return p
}
