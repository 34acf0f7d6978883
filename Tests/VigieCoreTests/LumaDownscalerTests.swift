import Testing

@testable import VigieCore

@Suite("Luma downscaler")
struct LumaDownscalerTests {
    /// Cell means from packed YUYV, planar GREY and a plain reference sum agree exactly, for sizes that do and
    /// do not fill whole cells and SIMD lanes.
    @Test("YUYV and GREY give the reference means", arguments: [(64, 48, 4), (70, 37, 12), (150, 33, 8), (18, 6, 5)])
    func matchesReference(width: Int, height: Int, cell: Int) throws {
        var random = SplitMix(seed: UInt64(width * height))
        let luma = (0..<(width * height)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let grey = Frame(geometry: try FrameGeometry(format: .grey, width: width, height: height))
        let packed = Frame(geometry: try FrameGeometry(format: .yuyv, width: width, height: height))
        for (index, value) in luma.enumerated() {
            grey.bytes[index] = value
            packed.bytes[index * 2] = value
            packed.bytes[index * 2 + 1] = 77
        }
        var downscaler = LumaDownscaler(width: width, height: height, cell: cell)
        let count = downscaler.columns * downscaler.rows
        var fromGrey = [Float](repeating: -1, count: count)
        var fromPacked = [Float](repeating: -1, count: count)
        fromGrey.withUnsafeMutableBufferPointer {
            downscaler.downscale(luma: UnsafeRawPointer(grey.bytes.baseAddress!), stride: width, step: 1, into: $0)
        }
        fromPacked.withUnsafeMutableBufferPointer {
            downscaler.downscale(
                luma: UnsafeRawPointer(packed.bytes.baseAddress!), stride: width * 2, step: 2, into: $0)
        }
        for gy in 0..<downscaler.rows {
            for gx in 0..<downscaler.columns {
                var total = 0
                var pixels = 0
                for y in (gy * cell)..<min(height, gy * cell + cell) {
                    for x in (gx * cell)..<min(width, gx * cell + cell) {
                        total += Int(luma[y * width + x])
                        pixels += 1
                    }
                }
                let expected = Float(total) * (1 / Float(pixels))
                #expect(fromGrey[gy * downscaler.columns + gx] == expected)
                #expect(fromPacked[gy * downscaler.columns + gx] == expected)
            }
        }
    }
}
