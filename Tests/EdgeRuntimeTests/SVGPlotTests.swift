import EdgeRuntime
import Testing

/// `SVGPlot`'s axis ticks: log axes at whole powers of ten (not "1e0.78"), linear axes at 1, 2 or
/// 5 × 10^k steps inside the range, a count axis never below 0.
@Suite("SVG plot ticks")
struct SVGPlotTests {
    static func labels(_ low: Double, _ high: Double, log: Bool) -> [String] {
        SVGPlot.axisTicks(from: low, to: high, log: log).map { $0.label }
    }

    /// The tick labels the SVG text holds on the x axis (the row under the plot: y = 40 + 345 + 18 at
    /// the default size) and the y axis (right-aligned), in document order.
    static func renderedLabels(_ svg: String) -> (x: [String], y: [String]) {
        var x: [String] = [], y: [String] = []
        for line in svg.split(separator: "\n") where line.hasPrefix("<text") && line.hasSuffix("</text>") {
            let label = String(line[line.index(after: line.firstIndex(of: ">")!)...].dropLast("</text>".count))
            if line.contains("text-anchor=\"end\"") { y.append(label) }
            else if line.contains("y=\"403\"") { x.append(label) }
        }
        return (x, y)
    }

    @Test("a log axis from 50 to 20000 has ticks at 100, 1000 and 10000, placed at their log10")
    func logAxis() {
        let ticks = SVGPlot.axisTicks(from: 1.69897, to: 4.30103, log: true)
        #expect(ticks.map { $0.label } == ["100", "1000", "10000"])
        #expect(ticks.map { $0.position } == [2, 3, 4])
    }

    @Test("a log axis under a decade uses 1, 2, 5 x 10^k, and linear steps when those are too few")
    func shortLogAxis() {
        #expect(Self.labels(1.65321, 2.60206, log: true) == ["50", "100", "200"])  // 45...400
        #expect(Self.labels(2.0, 2.1761, log: true) == ["100", "110", "120", "130", "140", "150"])  // 100...150
        #expect(Self.labels(-7, 7, log: true) == ["1e-6", "0.001", "1", "1000", "1e6"])  // every third power
    }

    @Test("a linear count axis 0...137 has 1-2-5 steps from 0, none negative or above the range")
    func countAxis() {
        #expect(Self.labels(0, 137, log: false) == ["0", "20", "40", "60", "80", "100", "120"])
        #expect(Self.labels(-1432.5, -187.25, log: false)
                == ["-1400", "-1200", "-1000", "-800", "-600", "-400", "-200"])
        #expect(Self.labels(0, 0.0137, log: false) == ["0", "0.002", "0.004", "0.006", "0.008", "0.01", "0.012"])
    }

    @Test("a latency histogram renders power-of-ten x labels and a count axis starting at 0")
    func latencyHistogram() {
        var plot = SVGPlot(title: "latency", xLabel: "µs", yLabel: "steps", logX: true)
        plot.series.append(.init(name: "steps", color: "#000", x: [50, 120, 900, 20_000], y: [3, 137, 40, 1], bars: true))
        let (x, y) = Self.renderedLabels(plot.render())
        #expect(x == ["100", "1000", "10000"])
        #expect(y == ["0", "20", "40", "60", "80", "100", "120", "140"])  // the axis runs to 137 + 5%
    }
}
