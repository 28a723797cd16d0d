/// Kernels for the batched layout: a batch is a row-major matrix [features][lanes] with one sample per
/// lane (structure of arrays), `lanes` a multiple of `laneBlock`. Every sample's math is independent,
/// so each instruction advances 8 samples.

/// Lane counts of batched buffers must be a multiple of this (two vectors per micro-kernel row).
public let laneBlock = 16

/// Rounds a sample count up to a valid lane count.
@inlinable @inline(__always)
public func paddedToLanes(_ n: Int) -> Int { (n + laneBlock - 1) / laneBlock * laneBlock }

/// `y[r][l] = initial[r] + Σ_k m[r*rowStride + k*innerStride] * x[k][l]` for r < rows, l < lanes
/// (`initial` nil means 0). With (rowStride 1, innerStride OutPad) this is a Dense forward pass; with
/// (OutPad, 1) it is the same layer's input gradient (Wᵀ applied), so one kernel serves both.
///
/// Micro-kernel: 4 rows x 16 lanes = 8 independent accumulator chains, one broadcast per coefficient.
/// O(rows * inner * lanes).
@inlinable
public func laneMatMul(rows: Int, inner: Int,
                       m: UnsafePointer<Float>, rowStride: Int, innerStride: Int,
                       x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, lanes: Int,
                       initial: UnsafePointer<Float>?) {
    precondition(lanes % laneBlock == 0, "lane count must be a multiple of 16")
    @inline(__always) func start(_ r: Int) -> Vec { initial.map { Vec(repeating: $0[r]) } ?? Vec(repeating: 0) }
    var r = 0
    while r + 4 <= rows {
        let m0 = m + r * rowStride, m1 = m0 + rowStride, m2 = m1 + rowStride, m3 = m2 + rowStride
        var l = 0
        while l < lanes {
            var a0 = start(r), a1 = a0, b0 = start(r + 1), b1 = b0
            var c0 = start(r + 2), c1 = c0, d0 = start(r + 3), d1 = d0
            var xp = x + l
            for k in 0..<inner {
                let xa = loadVec(xp, 0), xb = loadVec(xp, 8)
                let ko = k * innerStride
                let w0 = Vec(repeating: m0[ko]), w1 = Vec(repeating: m1[ko])
                let w2 = Vec(repeating: m2[ko]), w3 = Vec(repeating: m3[ko])
                a0 = madd(w0, xa, a0); a1 = madd(w0, xb, a1)
                b0 = madd(w1, xa, b0); b1 = madd(w1, xb, b1)
                c0 = madd(w2, xa, c0); c1 = madd(w2, xb, c1)
                d0 = madd(w3, xa, d0); d1 = madd(w3, xb, d1)
                xp += lanes
            }
            let yp = y + r * lanes + l
            storeVec(a0, yp, 0); storeVec(a1, yp, 8)
            storeVec(b0, yp, lanes); storeVec(b1, yp, lanes + 8)
            storeVec(c0, yp, 2 * lanes); storeVec(c1, yp, 2 * lanes + 8)
            storeVec(d0, yp, 3 * lanes); storeVec(d1, yp, 3 * lanes + 8)
            l += laneBlock
        }
        r += 4
    }
    while r < rows {  // remaining rows one at a time; even and odd k in separate chains
        let m0 = m + r * rowStride
        var l = 0
        while l < lanes {
            var a0 = start(r), a1 = a0
            var e0 = Vec(repeating: 0), e1 = e0
            var k = 0
            while k + 1 < inner {
                let p = x + k * lanes + l, q = p + lanes
                let w0 = Vec(repeating: m0[k * innerStride]), w1 = Vec(repeating: m0[(k + 1) * innerStride])
                a0 = madd(w0, loadVec(p, 0), a0); a1 = madd(w0, loadVec(p, 8), a1)
                e0 = madd(w1, loadVec(q, 0), e0); e1 = madd(w1, loadVec(q, 8), e1)
                k += 2
            }
            if k < inner {
                let p = x + k * lanes + l
                let w0 = Vec(repeating: m0[k * innerStride])
                a0 = madd(w0, loadVec(p, 0), a0); a1 = madd(w0, loadVec(p, 8), a1)
            }
            let yp = y + r * lanes + l
            storeVec(a0 + e0, yp, 0); storeVec(a1 + e1, yp, 8)
            l += laneBlock
        }
        r += 1
    }
}

/// `g[i*gStride + o] += Σ_l a[i][l] * b[o][l]` for i < aRows, o < bRows: the weight gradient of a
/// Dense layer (a = inputs, b = output gradients), reduced over the lanes. O(aRows * bRows * lanes).
@inlinable
public func laneOuterAccumulate(aRows: Int, bRows: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                                lanes: Int, g: UnsafeMutablePointer<Float>, gStride: Int) {
    precondition(lanes % laneBlock == 0, "lane count must be a multiple of 16")
    var i = 0
    while i < aRows {
        let twoInputs = i + 1 < aRows
        let pa = a + i * lanes, qa = twoInputs ? pa + lanes : pa
        var o = 0
        while o < bRows {
            let n = min(4, bRows - o)
            let pb0 = b + o * lanes
            let pb1 = n > 1 ? pb0 + lanes : pb0
            let pb2 = n > 2 ? pb0 + 2 * lanes : pb0
            let pb3 = n > 3 ? pb0 + 3 * lanes : pb0
            var s0 = Vec(repeating: 0), s1 = s0, s2 = s0, s3 = s0
            var t0 = s0, t1 = s0, t2 = s0, t3 = s0
            var l = 0
            while l < lanes {
                let x0 = loadVec(pa, l), x1 = loadVec(qa, l)
                let y0 = loadVec(pb0, l), y1 = loadVec(pb1, l), y2 = loadVec(pb2, l), y3 = loadVec(pb3, l)
                s0 = madd(x0, y0, s0); s1 = madd(x0, y1, s1); s2 = madd(x0, y2, s2); s3 = madd(x0, y3, s3)
                t0 = madd(x1, y0, t0); t1 = madd(x1, y1, t1); t2 = madd(x1, y2, t2); t3 = madd(x1, y3, t3)
                l += vecWidth
            }
            let g0 = g + i * gStride + o, g1 = g0 + gStride
            g0[0] += horizontalSum(s0)
            if n > 1 { g0[1] += horizontalSum(s1) }
            if n > 2 { g0[2] += horizontalSum(s2) }
            if n > 3 { g0[3] += horizontalSum(s3) }
            if twoInputs {
                g1[0] += horizontalSum(t0)
                if n > 1 { g1[1] += horizontalSum(t1) }
                if n > 2 { g1[2] += horizontalSum(t2) }
                if n > 3 { g1[3] += horizontalSum(t3) }
            }
            o += 4
        }
        i += 2
    }
}

/// `out[r] += Σ_l x[r][l]` for r < rows: a bias gradient reduced over the lanes.
@inlinable
public func laneRowSums(rows: Int, x: UnsafePointer<Float>, lanes: Int, out: UnsafeMutablePointer<Float>) {
    precondition(lanes % laneBlock == 0, "lane count must be a multiple of 16")
    for r in 0..<rows {
        let p = x + r * lanes
        var s0 = Vec(repeating: 0), s1 = s0
        var l = 0
        while l < lanes { s0 += loadVec(p, l); s1 += loadVec(p, l + 8); l += laneBlock }
        out[r] += horizontalSum(s0 + s1)
    }
}
