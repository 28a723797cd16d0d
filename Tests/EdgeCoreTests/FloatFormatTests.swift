import EdgeCore
import Testing

@Suite("formatFloat")
struct FloatFormatTests {
    @Test("formats like printf %.{digits}g, including the Float's exact value at 9 digits and non-finite values")
    func formats() {
        #expect(formatFloat(1.5) == "1.5")
        #expect(formatFloat(Float(0.1), digits: 9) == "0.100000001")
        #expect(formatFloat(-2.5e-10, digits: 3) == "-2.5e-10")
        #expect(formatFloat(123_456_789.0, digits: 4) == "1.235e+08")
        #expect(formatFloat(0.0) == "0")
        #expect(formatFloat(Double.nan) == "nan" || formatFloat(Double.nan) == "-nan")
        #expect(formatFloat(-Double.infinity) == "-inf")
        #expect(formatFloat(Double.pi, digits: 17) == "3.1415926535897931")
    }
}
