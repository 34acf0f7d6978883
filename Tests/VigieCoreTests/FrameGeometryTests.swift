import Testing
import VigieCore

@Suite("Frame geometry and pool")
struct FrameGeometryTests {
    @Test(
        "plane layouts",
        arguments: [
            (PixelFormat.i420, 641, 481, [641 * 481, 321 * 241, 321 * 241]),
            (.nv12, 640, 480, [640 * 480, 640 * 240]),
            (.yuyv, 640, 480, [1280 * 480]),
            (.grey, 17, 5, [85]),
        ])
    func layouts(format: PixelFormat, width: Int, height: Int, planeSizes: [Int]) throws {
        let geometry = try FrameGeometry(format: format, width: width, height: height)
        #expect(geometry.planes.map { $0.stride * $0.rows } == planeSizes)
        #expect(geometry.byteCount == planeSizes.reduce(0, +))
        #expect(geometry.planes.first?.offset == 0)
    }

    @Test("absurd sizes are refused", arguments: [(0, 10), (10, -1), (9000, 10), (10, 100_000)])
    func absurdSizes(width: Int, height: Int) {
        #expect(throws: FrameGeometryError.invalidSize(width: width, height: height)) {
            try FrameGeometry(format: .i420, width: width, height: height)
        }
    }

    @Test func yuyvNeedsEvenWidth() {
        #expect(throws: FrameGeometryError.oddWidth(format: .yuyv, width: 31)) {
            try FrameGeometry(format: .yuyv, width: 31, height: 8)
        }
    }

    @Test func poolReusesFrames() throws {
        let pool = FramePool(geometry: try FrameGeometry(format: .grey, width: 8, height: 8), capacity: 2)
        let first = try #require(pool.take())
        let second = try #require(pool.take())
        #expect(pool.take() == nil)
        pool.recycle(first)
        #expect(pool.take() === first)
        pool.recycle(second)
        #expect(pool.available == 1)
    }
}
