internal import CV4L2
import Testing
import VigieCore

@testable import VigieCapture

/// Negotiated formats become frame layouts with the driver's strides, so masks land on the right bytes.
@Suite("V4L2 format to frame layout")
struct V4L2GeometryTests {
    static func pix(_ width: UInt32, _ height: UInt32, bytesPerLine: UInt32, size: UInt32) -> v4l2_pix_format {
        var pix = v4l2_pix_format()
        pix.width = width
        pix.height = height
        pix.bytesperline = bytesPerLine
        pix.sizeimage = size
        return pix
    }

    @Test func yuyvWithPaddedLines() throws {
        let geometry = try V4L2Camera.geometry(Self.pix(640, 480, bytesPerLine: 1344, size: 1344 * 480), .yuyv, "d")
        #expect(geometry.planes == [PlaneLayout(offset: 0, stride: 1344, rowBytes: 1280, rows: 480)])
        #expect(geometry.byteCount == 1344 * 480)
        #expect(geometry.lumaStep == 2)
    }

    @Test func nv12PlanesFollowTheStride() throws {
        let geometry = try V4L2Camera.geometry(Self.pix(640, 480, bytesPerLine: 704, size: 704 * 720), .nv12, "d")
        #expect(geometry.planes[1] == PlaneLayout(offset: 704 * 480, stride: 704, rowBytes: 640, rows: 240))
    }

    @Test func yu12ChromaIsHalfTheStride() throws {
        let geometry = try V4L2Camera.geometry(Self.pix(320, 240, bytesPerLine: 320, size: 115_200), .i420, "d")
        #expect(geometry.planes.map(\.offset) == [0, 76_800, 96_000])
        #expect(geometry.planes[2].stride == 160)
        #expect(geometry.byteCount == 115_200)
    }

    @Test func greyWithoutStrideUsesTheWidth() throws {
        let geometry = try V4L2Camera.geometry(Self.pix(100, 50, bytesPerLine: 0, size: 0), .grey, "d")
        #expect(geometry.planes[0].stride == 100 && geometry.byteCount == 5000)
    }

    @Test func absurdSizeIsRefused() {
        #expect(throws: V4L2Error.self) {
            try V4L2Camera.geometry(Self.pix(0, 480, bytesPerLine: 0, size: 0), .grey, "d")
        }
    }

    /// A mask applied to a padded YUYV frame covers the same pixels as on a packed one.
    @Test func maskOnPaddedFrame() throws {
        let geometry = try V4L2Camera.geometry(Self.pix(64, 32, bytesPerLine: 160, size: 160 * 32), .yuyv, "d")
        let frame = Frame(geometry: geometry)
        frame.bytes.initializeMemory(as: UInt8.self, repeating: 200)
        let polygon = try MaskPolygon(
            name: "m", points: [.init(x: 0.5, y: 0), .init(x: 1, y: 0), .init(x: 1, y: 1), .init(x: 0.5, y: 1)])
        PrivacyMask(polygons: [polygon]).raster(for: geometry).apply(to: frame) { masked in
            for y in 0..<32 {
                for x in 32..<64 { #expect(masked.luma(x: x, y: y) == 0) }
                #expect(masked.luma(x: 31, y: y) == 200)
            }
        }
        // Padding bytes beyond the row are left alone.
        #expect(frame.bytes[130] == 200)
    }
}
