import Testing
import VigieCore
import VigieImage

#if canImport(Glibc)
    import Glibc
#endif

@Suite("JPEG snapshots")
struct JPEGSnapshotTests {
    /// A random star-shaped (so simple) polygon.
    static func randomPolygon(_ random: inout SplitMix) throws -> MaskPolygon {
        func unit() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        let count = 3 + Int(random.next() % 8)
        let cx = 0.3 + unit() * 0.4
        let cy = 0.3 + unit() * 0.4
        var points: [NormalizedPoint] = []
        for index in 0..<count {
            let angle = (Double(index) + unit() * 0.8) * 2 * Double.pi / Double(count)
            let radius = 0.15 + unit() * 0.2
            points.append(
                NormalizedPoint(
                    x: min(1, max(0, cx + radius * cos(angle))), y: min(1, max(0, cy + radius * sin(angle)))))
        }
        return try MaskPolygon(name: "random", points: points)
    }

    static func inside(_ x: Double, _ y: Double, _ polygon: [NormalizedPoint]) -> Bool {
        var result = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let a = polygon[i]
            let b = polygon[j]
            if (a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x { result.toggle() }
            j = i
        }
        return result
    }

    /// The invariant through the encoder: random frames, random masks, every format. Blocks that lie wholly
    /// inside the mask decode to black with neutral colour; elsewhere in the mask only the encoder's ringing
    /// from the edge remains, small on average.
    @Test("masked area stays black in the decoded JPEG", arguments: PixelFormat.allCases)
    func maskedAreaStaysBlack(format: PixelFormat) throws {
        var random = SplitMix(seed: 11)
        let encoder = try JPEGEncoder()
        let decoder = try JPEGDecoder()
        for _ in 0..<6 {
            let width = 16 * (8 + Int(random.next() % 12))
            let height = 16 * (6 + Int(random.next() % 10))
            let geometry = try FrameGeometry(format: format, width: width, height: height)
            let polygon = try Self.randomPolygon(&random)
            let frame = Frame(geometry: geometry)
            for index in 0..<frame.bytes.count { frame.bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            var jpeg: [UInt8] = []
            try PrivacyMask(polygons: [polygon]).raster(for: geometry).apply(to: frame) { masked in
                jpeg = try encoder.encode(masked, quality: 90)
            }
            #expect(jpeg.starts(with: [0xFF, 0xD8]))
            let image = try decoder.decode(jpeg)
            #expect(image.width == width && image.height == height)

            func hidden(_ x: Int, _ y: Int) -> Bool {
                Self.inside((Double(x) + 0.5) / Double(width), (Double(y) + 0.5) / Double(height), polygon.points)
            }
            var maskedCount = 0
            var lumaTotal = 0
            var interiorChecked = 0
            for blockY in stride(from: 0, to: height, by: 16) {
                for blockX in stride(from: 0, to: width, by: 16) {
                    var whole = true
                    for y in blockY..<(blockY + 16) {
                        for x in blockX..<(blockX + 16) {
                            if hidden(x, y) {
                                maskedCount += 1
                                lumaTotal += Int(image.luma(x: x, y: y))
                            } else {
                                whole = false
                            }
                        }
                    }
                    guard whole else { continue }
                    interiorChecked += 1
                    for y in blockY..<(blockY + 16) {
                        for x in blockX..<(blockX + 16) {
                            #expect(image.luma(x: x, y: y) <= 2, "luma \(image.luma(x: x, y: y)) at \(x),\(y)")
                        }
                    }
                    for plane in 1..<image.planes.count {
                        let cx = blockX / image.chromaStepX
                        let cy = blockY / image.chromaStepY
                        let value = Int(image.planes[plane][cy * image.strides[plane] + cx])
                        #expect(abs(value - 128) <= 2, "chroma \(value) at block \(blockX),\(blockY)")
                    }
                }
            }
            #expect(interiorChecked > 0, "the mask should contain whole blocks")
            let meanLuma = Double(lumaTotal) / Double(max(1, maskedCount))
            #expect(meanLuma < 12, "mean luma in the mask \(meanLuma): private pixels leak through")
        }
    }

    @Test func qualityOutOfRangeIsRefused() throws {
        let geometry = try FrameGeometry(format: .grey, width: 16, height: 16)
        let encoder = try JPEGEncoder()
        PrivacyMask.none.raster(for: geometry).apply(to: Frame(geometry: geometry)) { masked in
            #expect(throws: JPEGError.invalidQuality(0)) { try encoder.encode(masked, quality: 0) }
        }
    }

    @Test func garbageIsNotAJPEG() throws {
        #expect(throws: JPEGError.self) { try JPEGDecoder().decode([0, 1, 2, 3]) }
        #expect(throws: JPEGError.self) { try JPEGDecoder().decode([]) }
    }

    @Test func oddSizesEncode() throws {
        let encoder = try JPEGEncoder()
        let decoder = try JPEGDecoder()
        for format in [PixelFormat.i420, .nv12, .grey] {
            let geometry = try FrameGeometry(format: format, width: 33, height: 17)
            var jpeg: [UInt8] = []
            try PrivacyMask.none.raster(for: geometry).apply(to: Frame(geometry: geometry)) { masked in
                jpeg = try encoder.encode(masked, quality: 75)
            }
            let image = try decoder.decode(jpeg)
            #expect(image.width == 33 && image.height == 17)
        }
    }
}
