import Testing
import VigieCore

@Suite("Privacy masks")
struct PrivacyMaskTests {
    /// The invariant: for random polygons on random frames of every format, every luma pixel whose centre is
    /// inside a mask is black and every chroma sample that stands for such a pixel is neutral, in the very
    /// frame handed to detection.
    @Test("no masked pixel survives", arguments: PixelFormat.allCases)
    func noMaskedPixelSurvives(format: PixelFormat) throws {
        var random = SplitMix(seed: 42 &+ UInt64(format.hashValue & 0xff))
        for round in 0..<40 {
            let width = 2 * (8 + Int(random.next() % 150))
            let height = 8 + Int(random.next() % 200)
            let geometry = try FrameGeometry(format: format, width: width, height: height)
            let polygons = try (0..<(1 + round % 3)).map { index in
                try MaskPolygon(name: "m\(index)", points: Fixtures.randomPolygon(&random))
            }
            let frame = Frame(geometry: geometry)
            Fixtures.randomize(frame, &random)
            PrivacyMask(polygons: polygons).raster(for: geometry).apply(to: frame) { _ in }
            try Self.checkMasked(frame, polygons: polygons)
        }
    }

    /// Checks `frame` against `polygons` with an independent point-in-polygon test.
    static func checkMasked(_ frame: Frame, polygons: [MaskPolygon]) throws {
        let geometry = frame.geometry
        let width = geometry.width
        let height = geometry.height
        func hidden(_ x: Int, _ y: Int) -> Bool {
            let nx = (Double(x) + 0.5) / Double(width)
            let ny = (Double(y) + 0.5) / Double(height)
            return polygons.contains { Fixtures.inside(nx, ny, $0.points) }
        }
        var leaks = 0
        for y in 0..<height {
            for x in 0..<width where hidden(x, y) {
                if frame.luma(x: x, y: y) != MaskFill.luma { leaks += 1 }
                // Chroma sample(s) carrying this pixel's colour.
                let planes = geometry.planes
                let bytes = frame.bytes
                switch geometry.format {
                case .i420:
                    for plane in planes.dropFirst() where bytes[plane.offset + (y / 2) * plane.stride + x / 2] != 128 {
                        leaks += 1
                    }
                case .nv12:
                    let base = planes[1].offset + (y / 2) * planes[1].stride + (x / 2) * 2
                    if bytes[base] != 128 || bytes[base + 1] != 128 { leaks += 1 }
                case .yuyv:
                    let base = planes[0].offset + y * planes[0].stride + (x / 2) * 4
                    if bytes[base + 1] != 128 || bytes[base + 3] != 128 { leaks += 1 }
                case .grey: break
                }
            }
        }
        #expect(leaks == 0, "\(leaks) masked samples leaked in \(geometry)")
    }

    @Test func partlyCoveredPixelsAreMasked() throws {
        // A thin sliver between pixel centres still hides every pixel it touches.
        let geometry = try FrameGeometry(format: .grey, width: 10, height: 10)
        let polygon = try MaskPolygon(name: "sliver", points: Fixtures.rectangle(0.42, 0.0, 0.02, 1.0))
        let raster = PrivacyMask(polygons: [polygon]).raster(for: geometry)
        for y in 0..<10 { #expect(raster.luma.covers(x: 4, y: y)) }
        #expect(raster.luma.coveredCount == 10)
    }

    @Test func pixelAlignedMaskDoesNotSpill() throws {
        let geometry = try FrameGeometry(format: .grey, width: 10, height: 10)
        let polygon = try MaskPolygon(name: "half", points: Fixtures.rectangle(0, 0, 0.5, 1))
        let raster = PrivacyMask(polygons: [polygon]).raster(for: geometry)
        #expect(raster.luma.coveredCount == 50)
        #expect(raster.luma.covers(x: 4, y: 9))
        #expect(!raster.luma.covers(x: 5, y: 0))
    }

    @Test func overlappingMasksAreMerged() throws {
        let geometry = try FrameGeometry(format: .grey, width: 20, height: 20)
        let a = try MaskPolygon(name: "a", points: Fixtures.rectangle(0.1, 0.1, 0.5, 0.5))
        let b = try MaskPolygon(name: "b", points: Fixtures.rectangle(0.3, 0.3, 0.5, 0.5))
        let raster = PrivacyMask(polygons: [a, b]).raster(for: geometry)
        #expect(raster.luma.coveredCount == 100 + 100 - 36)
    }

    static let invalidCases: [(points: [NormalizedPoint], expected: String)] = {
        func p(_ x: Double, _ y: Double) -> NormalizedPoint { NormalizedPoint(x: x, y: y) }
        return [
            ([p(0.1, 0.1), p(0.2, 0.2)], "at least 3 points"),
            ([p(0.1, 0.1), p(.nan, 0.2), p(0.3, 0.1)], "point 2 is not a finite number"),
            ([p(0.1, 0.1), p(0.2, .infinity), p(0.3, 0.1)], "point 2 is not a finite number"),
            ([p(0.1, 0.1), p(1.5, 0.2), p(0.3, 0.4)], "point 2 (1.5, 0.2) is outside"),
            ([p(-0.1, 0.1), p(0.5, 0.2), p(0.3, 0.4)], "point 1"),
            ([p(0.1, 0.1), p(0.2, 0.2), p(0.3, 0.3)], "no area"),
            ([p(0.1, 0.1), p(0.5, 0.5), p(0.5, 0.1), p(0.1, 0.5)], "crosses itself"),
            ([p(0.1, 0.1), p(0.5, 0.1), p(0.5, 0.1), p(0.5, 0.5)], "crosses itself"),
            ([p(0.1, 0.1), p(0.9, 0.1), p(0.5, 0.1), p(0.5, 0.5)], "crosses itself"),
        ]
    }()

    @Test("invalid polygons are refused", arguments: 0..<9)
    func invalidPolygons(index: Int) {
        let (points, expected) = Self.invalidCases[index]
        do {
            _ = try MaskPolygon(name: "bad", points: points)
            Issue.record("accepted \(points)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
    @Test func tooManyPointsAreRefused() {
        let points = (0..<300).map { index -> NormalizedPoint in
            let angle = Double(index) / 300 * 6.28
            return NormalizedPoint(
                x: 0.5 + 0.4 * Fixtures.cosineForTest(angle), y: 0.5 + 0.4 * Fixtures.sineForTest(angle))
        }
        #expect(throws: PolygonError.tooManyPoints(300, limit: MaskPolygon.maximumPoints)) {
            try MaskPolygon(name: "round", points: points)
        }
    }

    @Test func concavePolygonKeepsItsNotch() throws {
        // A U shape: the notch between the arms stays visible.
        let points = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.6), (0.7, 0.6), (0.7, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)]
        let polygon = try MaskPolygon(name: "u", points: points.map { NormalizedPoint(x: $0.0, y: $0.1) })
        let raster = PrivacyMask(polygons: [polygon]).raster(
            for: try FrameGeometry(format: .grey, width: 100, height: 100))
        #expect(!raster.luma.covers(x: 50, y: 30))
        #expect(raster.luma.covers(x: 20, y: 30))
        #expect(raster.luma.covers(x: 50, y: 80))
    }
}
