/// All trainable parameters of one network and their gradients, in one allocation made at start-up.
///
/// Layout: `values[0..<count]` then `grads[0..<count]`. Every block a layer claims starts on a vector
/// boundary and has a length that is a multiple of the vector width, so optimizers and kernels read
/// whole vectors. Padding entries stay exactly zero: their gradients are always zero (kernels never
/// write them), so Adam leaves them at zero too.
public final class ParameterStore {
    /// Number of Floats in `values` (and in `grads`), a multiple of the vector width.
    public let count: Int
    public let values: UnsafeMutablePointer<Float>
    public let grads: UnsafeMutablePointer<Float>

    /// Allocates `count` parameters (rounded up to the vector width), all zero.
    public init(count: Int) {
        self.count = paddedToVec(count)
        values = allocateFloats(2 * self.count)
        grads = values + self.count
    }

    deinit { values.deallocate() }

    /// Sets every gradient to zero. O(count).
    @inlinable public func zeroGrads() {
        grads.update(repeating: 0, count: count)
    }

    /// Copies values (not gradients) from a store of the same size, e.g. to snapshot a policy.
    public func copyValues(from other: ParameterStore) {
        precondition(other.count == count, "parameter stores of different sizes")
        values.update(from: other.values, count: count)
    }

    /// Global L2 norm of the gradients, accumulated in Double.
    public func gradNorm() -> Float {
        var acc = SIMD8<Double>(repeating: 0)
        var i = 0
        while i < count {
            let g = SIMD8<Double>(loadVec(grads, i))
            acc += g * g
            i += vecWidth
        }
        return Float(acc.sum().squareRoot())
    }

    /// Scales gradients so their global norm is at most `maxNorm`; returns the norm before clipping.
    @discardableResult
    public func clipGradNorm(_ maxNorm: Float) -> Float {
        let norm = gradNorm()
        if norm > maxNorm && norm.isFinite {
            let s = Vec(repeating: maxNorm / norm)
            var i = 0
            while i < count { storeVec(loadVec(grads, i) * s, grads, i); i += vecWidth }
        }
        return norm
    }
}

/// Hands out vector-aligned blocks of a parameter count while a network lays itself out.
public struct ParameterLayout {
    public private(set) var count = 0
    public init() {}
    /// Reserves `n` Floats (rounded up to the vector width) and returns the offset of the block.
    public mutating func reserve(_ n: Int) -> Int {
        let offset = count
        count += paddedToVec(n)
        return offset
    }
}
