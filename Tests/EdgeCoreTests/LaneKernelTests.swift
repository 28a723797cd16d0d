import EdgeCore
import Testing

/// Guard value written just past every output the lane kernels may write; it must survive.
private let guardValue: Float = -3.25

/// Counts guard entries at [start, start + n) that changed.
private func changedGuards(_ b: FloatBuffer, from start: Int, count n: Int = vecWidth) -> Int {
    (start..<(start + n)).filter { b[$0] != guardValue }.count
}

@Suite("Lane kernels with odd row counts against a Double reference")
struct LaneKernelTests {
    /// Row and inner counts: 1, 3, 5, 7 exercise the one-row remainder loop alone and after a 4-row
    /// block; 4 and 8 only the 4-row blocks; inner 1 and odd counts the odd-k tail.
    static let counts = [1, 2, 3, 4, 5, 7, 8]

    @Test("laneMatMul computes initial[r] + Σ_k m[r·rowStride + k·innerStride] x[k][l] in both stride layouts, with and without initial values")
    func matMul() {
        var check = ToleranceCheck("laneMatMul")
        var guardsChanged = 0
        var rng = RandomSource(seed: 21)
        for rows in Self.counts {
            for inner in Self.counts {
                for lanes in [16, 48] {
                    for transposed in [false, true] {
                        for withInitial in [false, true] {
                            // Coefficients stored [k][r] with a padded row (a Dense forward) or [r][k] (its transpose).
                            let rowStride = transposed ? paddedToVec(inner) : 1
                            let innerStride = transposed ? 1 : paddedToVec(rows)
                            let m = FloatBuffer(max(rows * rowStride, inner * innerStride) + vecWidth)
                            m.fillUniform(&rng, -1, 1)
                            let x = FloatBuffer(inner * lanes); x.fillUniform(&rng, -1, 1)
                            let initial = FloatBuffer(rows); initial.fillUniform(&rng, -2, 2)
                            let y = FloatBuffer(rows * lanes + vecWidth)
                            for j in 0..<vecWidth { y[rows * lanes + j] = guardValue }
                            laneMatMul(rows: rows, inner: inner, m: m.pointer, rowStride: rowStride, innerStride: innerStride,
                                       x: x.pointer, y: y.pointer, lanes: lanes, initial: withInitial ? UnsafePointer(initial.pointer) : nil)
                            for r in 0..<rows {
                                for l in 0..<lanes {
                                    var terms = withInitial ? [Bounded(Double(initial[r]))] : []
                                    for k in 0..<inner {
                                        terms.append(Bounded(Double(m[r * rowStride + k * innerStride]) * Double(x[k * lanes + l])))
                                    }
                                    // Twice the bound γ(n + 2) Σ|terms| of a Float sum of products (see `boundedSum`).
                                    let ref = boundedSum(terms)
                                    check.check(Double(y[r * lanes + l]), ref.value, tolerance: 2 * ref.bound,
                                                "rows \(rows) inner \(inner) lanes \(lanes) transposed \(transposed) initial \(withInitial): y[\(r)][\(l)]")
                                }
                            }
                            guardsChanged += changedGuards(y, from: rows * lanes)
                        }
                    }
                }
            }
        }
        check.expectPassed()
        #expect(guardsChanged == 0, "laneMatMul wrote past rows · lanes")
    }

    @Test("laneOuterAccumulate adds Σ_l a[i][l] b[o][l] into g[i·gStride + o] and leaves the rest of each row alone")
    func outerAccumulate() {
        var check = ToleranceCheck("laneOuterAccumulate")
        var guardsChanged = 0
        var rng = RandomSource(seed: 22)
        for aRows in Self.counts {
            for bRows in Self.counts {
                for lanes in [16, 48] {
                    let gStride = bRows + 3  // entries o ≥ bRows of each row are guards
                    let a = FloatBuffer(aRows * lanes); a.fillUniform(&rng, -1, 1)
                    let b = FloatBuffer(bRows * lanes); b.fillUniform(&rng, -1, 1)
                    let g = FloatBuffer(aRows * gStride + vecWidth)
                    for j in 0..<g.count { g[j] = guardValue }
                    for i in 0..<aRows { for o in 0..<bRows { g[i * gStride + o] = rng.nextUniform(-1, 1) } }
                    let prior = g.array
                    laneOuterAccumulate(aRows: aRows, bRows: bRows, a: a.pointer, b: b.pointer, lanes: lanes,
                                        g: g.pointer, gStride: gStride)
                    for i in 0..<aRows {
                        for o in 0..<bRows {
                            var terms = [Bounded(Double(prior[i * gStride + o]))]
                            for l in 0..<lanes { terms.append(Bounded(Double(a[i * lanes + l]) * Double(b[o * lanes + l]))) }
                            let ref = boundedSum(terms)
                            check.check(Double(g[i * gStride + o]), ref.value, tolerance: 2 * ref.bound,
                                        "aRows \(aRows) bRows \(bRows) lanes \(lanes): g[\(i)][\(o)]")
                        }
                        guardsChanged += changedGuards(g, from: i * gStride + bRows, count: 3)
                    }
                    guardsChanged += changedGuards(g, from: aRows * gStride)
                }
            }
        }
        check.expectPassed()
        #expect(guardsChanged == 0, "laneOuterAccumulate wrote outside the aRows × bRows block")
    }

    @Test("laneRowSums adds each row's lane sum into out[r] and writes nothing else")
    func rowSums() {
        var check = ToleranceCheck("laneRowSums")
        var guardsChanged = 0
        var rng = RandomSource(seed: 23)
        for rows in Self.counts {
            for lanes in [16, 32, 48] {
                let x = FloatBuffer(rows * lanes); x.fillUniform(&rng, -1, 1)
                let out = FloatBuffer(rows + vecWidth)
                for j in 0..<vecWidth { out[rows + j] = guardValue }
                for r in 0..<rows { out[r] = rng.nextUniform(-4, 4) }
                let prior = out.array
                laneRowSums(rows: rows, x: x.pointer, lanes: lanes, out: out.pointer)
                for r in 0..<rows {
                    let ref = boundedSum([Bounded(Double(prior[r]))] + (0..<lanes).map { Bounded(Double(x[r * lanes + $0])) })
                    check.check(Double(out[r]), ref.value, tolerance: 2 * ref.bound, "rows \(rows) lanes \(lanes): out[\(r)]")
                }
                guardsChanged += changedGuards(out, from: rows)
            }
        }
        check.expectPassed()
        #expect(guardsChanged == 0, "laneRowSums wrote past out[rows - 1]")
    }

    @Test("horizontalSum adds all eight lanes and paddedToLanes rounds up to 16")
    func helpers() {
        #expect(horizontalSum(Vec(1, 2, 4, 8, 16, 32, 64, 128)) == 255)
        #expect(laneBlock == 16)
        #expect(paddedToLanes(1) == 16 && paddedToLanes(16) == 16 && paddedToLanes(17) == 32 && paddedToLanes(0) == 0)
        let p = allocateFloats(5)
        defer { p.deallocate() }
        #expect(Int(bitPattern: p) % 64 == 0, "allocateFloats aligns to 64 bytes")
        #expect((0..<8).allSatisfy { p[$0] == 0 }, "allocateFloats zeroes the padded length")
    }
}
