import CEdgeSys
import EdgeCore
import EdgeIO

/// A small line/bar chart written as SVG text (no dependencies, Embedded-safe), for the pictures
/// `train` leaves in the data directory and the reports of `analyze` and `compare`.
public struct SVGPlot {
    public struct Series {
        public var name: String
        /// CSS color.
        public var color: String
        public var x: [Double]
        public var y: [Double]
        /// Optional ± band around y (same length as y), drawn translucent.
        public var spread: [Double]?
        /// Draw as bars (a histogram) instead of a line with markers.
        public var bars: Bool

        public init(name: String, color: String, x: [Double], y: [Double], spread: [Double]? = nil, bars: Bool = false) {
            self.name = name; self.color = color; self.x = x; self.y = y; self.spread = spread; self.bars = bars
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var logX = false
    public var logY = false
    public var series: [Series] = []

    public init(title: String, xLabel: String, yLabel: String, logX: Bool = false, logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.logX = logX; self.logY = logY
    }

    static func log10(_ v: Double) -> Double { Double(log10f(Float(max(v, 1e-30)))) }
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            default: out.append(c)
            }
        }
        return out
    }
    static func num(_ v: Double) -> String { formatFloat(v, digits: 5) }

    /// The chart as a complete SVG document.
    public func render(width: Int = 760, height: Int = 440) -> String {
        let left = 80.0, right = 170.0, top = 40.0, bottom = 55.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        func tx(_ v: Double) -> Double { logX ? Self.log10(v) : v }
        func ty(_ v: Double) -> Double { logY ? Self.log10(v) : v }
        var xs: [Double] = [], ys: [Double] = []
        for s in series {
            xs += s.x.map(tx)
            for (i, y) in s.y.enumerated() where y.isFinite {
                let d = s.spread?[i] ?? 0
                ys.append(ty(logY ? y : y - d)); ys.append(ty(y + d))
                if s.bars { ys.append(ty(logY ? 1 : 0)) }
            }
        }
        var x0 = xs.min() ?? 0, x1 = xs.max() ?? 1, y0 = ys.min() ?? 0, y1 = ys.max() ?? 1
        let nonNegative = !logY && y0 >= 0  // counts: the axis stays at 0 and above
        if x1 - x0 < 1e-12 { x0 -= 1; x1 += 1 }
        if y1 - y0 < 1e-12 { y0 -= 1; y1 += 1 }
        let pad = (y1 - y0) * 0.05
        y0 -= pad; y1 += pad
        if nonNegative { y0 = max(y0, 0) }
        func px(_ v: Double) -> Double { left + (tx(v) - x0) / (x1 - x0) * w }
        func py(_ v: Double) -> Double { top + (1 - (ty(v) - y0) / (y1 - y0)) * h }

        var o = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        o += "<text x=\"\(Self.num(left))\" y=\"22\" font-size=\"15\">\(Self.escape(title))</text>\n"
        // Axes and ticks (see `axisTicks`).
        o += "<rect x=\"\(Self.num(left))\" y=\"\(Self.num(top))\" width=\"\(Self.num(w))\" height=\"\(Self.num(h))\" fill=\"none\" stroke=\"#888\"/>\n"
        for tick in Self.axisTicks(from: x0, to: x1, log: logX) {
            let gx = left + (tick.position - x0) / (x1 - x0) * w
            o += "<line x1=\"\(Self.num(gx))\" y1=\"\(Self.num(top))\" x2=\"\(Self.num(gx))\" y2=\"\(Self.num(top + h))\" stroke=\"#eee\"/>\n"
            o += "<text x=\"\(Self.num(gx))\" y=\"\(Self.num(top + h + 18))\" text-anchor=\"middle\">\(tick.label)</text>\n"
        }
        for tick in Self.axisTicks(from: y0, to: y1, log: logY) {
            let gy = top + (1 - (tick.position - y0) / (y1 - y0)) * h
            o += "<line x1=\"\(Self.num(left))\" y1=\"\(Self.num(gy))\" x2=\"\(Self.num(left + w))\" y2=\"\(Self.num(gy))\" stroke=\"#eee\"/>\n"
            o += "<text x=\"\(Self.num(left - 6))\" y=\"\(Self.num(gy + 4))\" text-anchor=\"end\">\(tick.label)</text>\n"
        }
        o += "<text x=\"\(Self.num(left + w / 2))\" y=\"\(Self.num(Double(height) - 12))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>\n"
        o += "<text transform=\"translate(18,\(Self.num(top + h / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>\n"
        for (k, s) in series.enumerated() {
            let points = zip(s.x, s.y).filter { $0.1.isFinite }
            if s.bars {
                let barWidth = max(w / Double(max(points.count, 1)) * 0.8, 1)
                for (x, y) in points {
                    let base = py(logY ? pow10(y0) : max(0, y0))
                    o += "<rect x=\"\(Self.num(px(x) - barWidth / 2))\" y=\"\(Self.num(py(y)))\" width=\"\(Self.num(barWidth))\" height=\"\(Self.num(max(base - py(y), 0)))\" fill=\"\(s.color)\"/>\n"
                }
            } else {
                if let spread = s.spread {
                    var band = ""
                    for (i, x) in s.x.enumerated() where s.y[i].isFinite { band += "\(Self.num(px(x))),\(Self.num(py(s.y[i] + spread[i]))) " }
                    for (i, x) in s.x.enumerated().reversed() where s.y[i].isFinite {
                        band += "\(Self.num(px(x))),\(Self.num(py(logY ? max(s.y[i] - spread[i], 1e-30) : s.y[i] - spread[i]))) "
                    }
                    o += "<polygon points=\"\(band)\" fill=\"\(s.color)\" fill-opacity=\"0.15\" stroke=\"none\"/>\n"
                }
                let line = points.map { "\(Self.num(px($0.0))),\(Self.num(py($0.1)))" }.joined(separator: " ")
                o += "<polyline points=\"\(line)\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"/>\n"
                for (x, y) in points { o += "<circle cx=\"\(Self.num(px(x)))\" cy=\"\(Self.num(py(y)))\" r=\"2.5\" fill=\"\(s.color)\"/>\n" }
            }
            let ly = top + 14 + Double(k) * 18
            o += "<rect x=\"\(Self.num(left + w + 12))\" y=\"\(Self.num(ly - 9))\" width=\"12\" height=\"10\" fill=\"\(s.color)\"/>\n"
            o += "<text x=\"\(Self.num(left + w + 30))\" y=\"\(Self.num(ly))\">\(Self.escape(s.name))</text>\n"
        }
        o += "</svg>\n"
        return o
    }

    func pow10(_ v: Double) -> Double { Double(powf(10, Float(v))) }

    /// The ticks of an axis showing `low...high` (log10 of the values on a log axis): each one's place
    /// on the axis (in the same units) and its label. Linear axes: multiples of a 1, 2 or 5 × 10^k step,
    /// about five, all inside the range. Log axes: the whole powers of ten inside (every n-th when there
    /// are many), labelled 0.0001 to 100000 or 1e-5, 1e6; with fewer than two of those, 1, 2 and
    /// 5 × 10^k; with fewer than two of those, linear steps between the range's values.
    public static func axisTicks(from low: Double, to high: Double, log: Bool) -> [(position: Double, label: String)] {
        guard low.isFinite && high.isFinite && low < high else { return [] }
        var ticks: [(position: Double, label: String)] = []
        var values: [Double] = []
        if log {
            let first = Int(low.rounded(.up)), last = Int(high.rounded(.down))
            if last > first {
                let every = (last - first) / 7 + 1
                for k in first...last where k % every == 0 {
                    ticks.append((Double(k), (-4...5).contains(k) ? label(power(of: k)) : "1e\(k)"))
                }
                return ticks
            }
            for k in (first - 1)...(last + 1) {
                for m in [1.0, 2, 5] where (low...high).contains(log10(m * power(of: k))) { values.append(m * power(of: k)) }
            }
            if values.count < 2 { values = niceSteps(Double(powf(10, Float(low))), Double(powf(10, Float(high)))) }
        } else {
            values = niceSteps(low, high)
        }
        for value in values { ticks.append((log ? log10(value) : value, label(value))) }
        return ticks
    }

    /// Multiples of a 1, 2 or 5 × 10^k step inside `low...high`, about five of them.
    static func niceSteps(_ low: Double, _ high: Double) -> [Double] {
        let raw = (high - low) / 5
        guard raw.isFinite && raw > 0 else { return [] }
        var step = 1.0
        while step > raw { step /= 10 }
        while step * 10 <= raw { step *= 10 }
        let ratio = raw / step
        step *= ratio < 1.5 ? 1 : ratio < 3 ? 2 : ratio < 7 ? 5 : 10
        let first = (low / step - 1e-9).rounded(.up), last = (high / step + 1e-9).rounded(.down)
        guard first <= last && last - first < 100 else { return [] }
        return (Int(first)...Int(last)).map { Double($0) * step }
    }

    /// 10^k.
    static func power(of k: Int) -> Double {
        var value = 1.0
        for _ in 0..<k.magnitude { value = k < 0 ? value / 10 : value * 10 }
        return value
    }

    /// A tick value as `%g` prints it, without a negative zero.
    static func label(_ value: Double) -> String { formatFloat(value == 0 ? 0 : value, digits: 6) }

    /// Writes the chart atomically to `path`.
    public func write(to path: String) throws(FileError) {
        try FileSystem.writeAtomically(Array(render().utf8), to: path)
    }
}

extension TrainingSummary {
    /// Real steps against the evaluation return (± its spread over episodes) and the imagined return.
    /// Without evaluation episodes (a board's rig): the collected episodes' returns instead.
    public var learningCurvePlot: SVGPlot {
        var plot = SVGPlot(title: "edge-ctl: \(rig.rawValue), seed \(seed)", xLabel: "real steps",
                           yLabel: "return per episode")
        let x = curve.map { Double($0.realSteps) }
        if evaluationEpisodes == 0 {
            plot.series.append(.init(name: "collected episode (sensor reward, exploring)", color: "#1f77b4", x: x,
                                     y: curve.map { Double($0.episodeReturn) }))
        } else {
            plot.series.append(.init(name: "evaluation (true state)", color: "#1f77b4", x: x,
                                     y: curve.map { Double($0.evaluationMean) },
                                     spread: curve.map { Double($0.evaluationStd) }))
        }
        plot.series.append(.init(name: "imagined (per rollout)", color: "#ff7f0e", x: x,
                                 y: curve.map { Double($0.improvement.imaginedReturn) }))
        return plot
    }
}
