/// A fully connected layer `z = Wᵀx + b` with `In` inputs and `Out` outputs: a view into a
/// `ParameterStore`, so it owns no memory.
///
/// Weights are stored input-major with the outputs padded to the vector width:
/// `w[i * outPad + o]` feeds input i into output o. For one sample that puts the outputs in SIMD lanes
/// (z = b + Σ_i x_i · row_i, one broadcast and outPad/8 fused multiply-adds per input); for a batch the
/// samples are in lanes instead (see `laneMatMul`). Padding weights and biases are zero and stay zero.
public struct Dense<let In: Int, let Out: Int> {
    /// Outputs rounded up to the vector width: the row length of `w` and the length of `b`.
    public static var outPad: Int { paddedToVec(Out) }
    /// Floats this layer occupies in a parameter store.
    public static var parameterCount: Int { In * outPad + outPad }

    public let w: UnsafeMutablePointer<Float>
    public let b: UnsafeMutablePointer<Float>
    public let gw: UnsafeMutablePointer<Float>
    public let gb: UnsafeMutablePointer<Float>

    /// A view of the layer stored at `offset` (from `ParameterLayout.reserve(parameterCount)`).
    public init(store: ParameterStore, offset: Int) {
        precondition(offset + Self.parameterCount <= store.count, "layer outside its parameter store")
        w = store.values + offset
        b = w + In * Self.outPad
        gw = store.grads + offset
        gb = gw + In * Self.outPad
    }

    /// Weight from input `input` to output `output`.
    @inlinable public func weight(_ input: Int, _ output: Int) -> Float { w[input * Self.outPad + output] }
    @inlinable public func setWeight(_ input: Int, _ output: Int, _ value: Float) { w[input * Self.outPad + output] = value }
    @inlinable public func weightGrad(_ input: Int, _ output: Int) -> Float { gw[input * Self.outPad + output] }

    /// Uniform(-scale/√In, scale/√In) weights (PyTorch's default bound for scale 1) and zero biases.
    public func initialize(rng: inout RandomSource, scale: Float = 1) {
        let bound = scale / Float(In).squareRoot()
        for i in 0..<In {
            for o in 0..<Out { setWeight(i, o, bound * (2 * rng.nextUniform() - 1)) }
        }
        for o in 0..<Out { b[o] = 0 }
    }

    // MARK: One sample

    /// z[0..<outPad] = Wᵀ x + b for one sample x[0..<In]. Allocates nothing. O(In · outPad).
    ///
    /// Eight output vectors at a time (one broadcast of x[i] feeds eight independent fused multiply-add
    /// chains: 9 loads per 8 FMAs, and 8 chains cover the FMA latency × throughput of an AVX2 core or
    /// of a Cortex-A7x); then four at a time with even and odd inputs in separate accumulators (8
    /// chains); a last single vector (Out ≤ 8, e.g. a 64→1 output layer) uses eight chains over the
    /// inputs, each a broadcast times one row (16 dependent FMAs with four chains measured 32.5 ns for
    /// 64→1, eight chains 25 ns).
    @inlinable
    public func forward(_ x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>) {
        let op = Self.outPad
        var c = 0
        while c + 8 * vecWidth <= op {
            var a0 = loadVec(b, c), a1 = loadVec(b, c + 8), a2 = loadVec(b, c + 16), a3 = loadVec(b, c + 24)
            var a4 = loadVec(b, c + 32), a5 = loadVec(b, c + 40), a6 = loadVec(b, c + 48), a7 = loadVec(b, c + 56)
            for i in 0..<In {
                let xi = Vec(repeating: x[i]), r = w + i * op + c
                a0 = madd(xi, loadVec(r, 0), a0); a1 = madd(xi, loadVec(r, 8), a1)
                a2 = madd(xi, loadVec(r, 16), a2); a3 = madd(xi, loadVec(r, 24), a3)
                a4 = madd(xi, loadVec(r, 32), a4); a5 = madd(xi, loadVec(r, 40), a5)
                a6 = madd(xi, loadVec(r, 48), a6); a7 = madd(xi, loadVec(r, 56), a7)
            }
            storeVec(a0, z, c); storeVec(a1, z, c + 8); storeVec(a2, z, c + 16); storeVec(a3, z, c + 24)
            storeVec(a4, z, c + 32); storeVec(a5, z, c + 40); storeVec(a6, z, c + 48); storeVec(a7, z, c + 56)
            c += 8 * vecWidth
        }
        while c + 4 * vecWidth <= op {
            var a0 = loadVec(b, c), a1 = loadVec(b, c + 8), a2 = loadVec(b, c + 16), a3 = loadVec(b, c + 24)
            var e0 = Vec(repeating: 0), e1 = e0, e2 = e0, e3 = e0
            var i = 0
            while i + 1 < In {
                let x0 = Vec(repeating: x[i]), x1 = Vec(repeating: x[i + 1])
                let r0 = w + i * op + c, r1 = r0 + op
                a0 = madd(x0, loadVec(r0, 0), a0); a1 = madd(x0, loadVec(r0, 8), a1)
                a2 = madd(x0, loadVec(r0, 16), a2); a3 = madd(x0, loadVec(r0, 24), a3)
                e0 = madd(x1, loadVec(r1, 0), e0); e1 = madd(x1, loadVec(r1, 8), e1)
                e2 = madd(x1, loadVec(r1, 16), e2); e3 = madd(x1, loadVec(r1, 24), e3)
                i += 2
            }
            if i < In {
                let x0 = Vec(repeating: x[i]), r0 = w + i * op + c
                a0 = madd(x0, loadVec(r0, 0), a0); a1 = madd(x0, loadVec(r0, 8), a1)
                a2 = madd(x0, loadVec(r0, 16), a2); a3 = madd(x0, loadVec(r0, 24), a3)
            }
            storeVec(a0 + e0, z, c); storeVec(a1 + e1, z, c + 8)
            storeVec(a2 + e2, z, c + 16); storeVec(a3 + e3, z, c + 24)
            c += 4 * vecWidth
        }
        while c < op {
            var a0 = loadVec(b, c), a1 = Vec(repeating: 0), a2 = a1, a3 = a1, a4 = a1, a5 = a1, a6 = a1, a7 = a1
            var i = 0
            while i + 7 < In {
                let r = w + i * op + c
                a0 = madd(Vec(repeating: x[i]), loadVec(r, 0), a0)
                a1 = madd(Vec(repeating: x[i + 1]), loadVec(r, op), a1)
                a2 = madd(Vec(repeating: x[i + 2]), loadVec(r, 2 * op), a2)
                a3 = madd(Vec(repeating: x[i + 3]), loadVec(r, 3 * op), a3)
                a4 = madd(Vec(repeating: x[i + 4]), loadVec(r, 4 * op), a4)
                a5 = madd(Vec(repeating: x[i + 5]), loadVec(r, 5 * op), a5)
                a6 = madd(Vec(repeating: x[i + 6]), loadVec(r, 6 * op), a6)
                a7 = madd(Vec(repeating: x[i + 7]), loadVec(r, 7 * op), a7)
                i += 8
            }
            while i < In {
                a0 = madd(Vec(repeating: x[i]), loadVec(w + i * op + c, 0), a0)
                i += 1
            }
            storeVec(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)), z, c)
            c += vecWidth
        }
    }

    /// Backward pass for one sample: given dL/dz (`dz[0..<outPad]`, padding zero) and the input x of
    /// the forward pass, adds dL/dW and dL/db into the gradients and, if `dx` is given, writes
    /// dL/dx[0..<In] = W dz. O(In · outPad).
    @inlinable
    public func backward(_ x: UnsafePointer<Float>, _ dz: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>?) {
        let op = Self.outPad
        var c = 0
        while c < op { storeVec(loadVec(gb, c) + loadVec(dz, c), gb, c); c += vecWidth }
        for i in 0..<In {
            let xi = Vec(repeating: x[i])
            let row = w + i * op, grow = gw + i * op
            var acc = Vec(repeating: 0)
            c = 0
            while c < op {
                let d = loadVec(dz, c)
                storeVec(madd(xi, d, loadVec(grow, c)), grow, c)
                acc = madd(loadVec(row, c), d, acc)
                c += vecWidth
            }
            dx?[i] = horizontalSum(acc)
        }
    }

    // MARK: A batch, samples in lanes

    /// z[Out][lanes] = Wᵀ x + b for x[In][lanes]. O(In · Out · lanes).
    @inlinable
    public func forward(batch x: UnsafePointer<Float>, _ z: UnsafeMutablePointer<Float>, lanes: Int) {
        laneMatMul(rows: Out, inner: In, m: w, rowStride: 1, innerStride: Self.outPad,
                   x: x, y: z, lanes: lanes, initial: b)
    }

    /// Batched backward: adds dL/dW = Σ_lanes x dzᵀ and dL/db = Σ_lanes dz into the gradients and, if
    /// `dx` is given, writes dL/dx[In][lanes] = W dz. O(In · Out · lanes).
    @inlinable
    public func backward(batch x: UnsafePointer<Float>, _ dz: UnsafePointer<Float>,
                         _ dx: UnsafeMutablePointer<Float>?, lanes: Int) {
        laneRowSums(rows: Out, x: dz, lanes: lanes, out: gb)
        laneOuterAccumulate(aRows: In, bRows: Out, a: x, b: dz, lanes: lanes, g: gw, gStride: Self.outPad)
        if let dx {
            laneMatMul(rows: In, inner: Out, m: w, rowStride: Self.outPad, innerStride: 1,
                       x: dz, y: dx, lanes: lanes, initial: nil)
        }
    }
}
