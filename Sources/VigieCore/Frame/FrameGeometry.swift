/// Where one plane of a frame lives inside the frame's buffer.
public struct PlaneLayout: Sendable, Hashable {
    /// Byte offset of the plane's first row from the start of the frame buffer.
    public var offset: Int
    /// Bytes from the start of one row to the start of the next (≥ `rowBytes`).
    public var stride: Int
    /// Bytes of image data in one row.
    public var rowBytes: Int
    /// Number of rows.
    public var rows: Int

    public init(offset: Int, stride: Int, rowBytes: Int, rows: Int) {
        self.offset = offset
        self.stride = stride
        self.rowBytes = rowBytes
        self.rows = rows
    }
}

/// Size, format and memory layout of a frame. Value type: two frames with equal geometry
/// can share a pool and a mask raster.
public struct FrameGeometry: Sendable, Hashable, CustomStringConvertible {
    /// Largest side accepted anywhere (8K). Larger sizes are refused as absurd.
    public static let maximumSide = 8192

    public let format: PixelFormat
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Planes in memory order: Y, U, V for I420; Y, UV for NV12; one plane for YUYV and GREY.
    public let planes: [PlaneLayout]
    /// Total bytes of one frame, tightly packed unless strides say otherwise.
    public let byteCount: Int

    /// Tightly packed geometry (stride equals row bytes).
    ///
    /// - Throws: `FrameGeometryError` when a side is zero, negative or above `maximumSide`, or when
    ///   the format needs an even width (YUYV).
    public init(format: PixelFormat, width: Int, height: Int) throws(FrameGeometryError) {
        guard width > 0, height > 0, width <= Self.maximumSide, height <= Self.maximumSide else {
            throw .invalidSize(width: width, height: height)
        }
        if format == .yuyv && width % 2 != 0 { throw .oddWidth(format: format, width: width) }
        let chromaWidth = (width + 1) / 2
        let chromaHeight = (height + 1) / 2
        var planes: [PlaneLayout] = []
        var offset = 0
        func add(_ rowBytes: Int, _ rows: Int) {
            planes.append(PlaneLayout(offset: offset, stride: rowBytes, rowBytes: rowBytes, rows: rows))
            offset += rowBytes * rows
        }
        switch format {
        case .i420:
            add(width, height)
            add(chromaWidth, chromaHeight)
            add(chromaWidth, chromaHeight)
        case .nv12:
            add(width, height)
            add(chromaWidth * 2, chromaHeight)
        case .yuyv:
            add(width * 2, height)
        case .grey:
            add(width, height)
        }
        self.init(format: format, width: width, height: height, planes: planes, byteCount: offset)
    }

    /// Geometry with explicit plane layouts, as a driver reports them (strides with padding).
    public init(format: PixelFormat, width: Int, height: Int, planes: [PlaneLayout], byteCount: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.planes = planes
        self.byteCount = byteCount
    }

    /// How luma samples are laid out: plane 0, `step` bytes apart (2 in YUYV).
    public var lumaStep: Int { format == .yuyv ? 2 : 1 }

    public var description: String { "\(width)x\(height) \(format)" }
}

/// Why a frame geometry was refused.
public enum FrameGeometryError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidSize(width: Int, height: Int)
    case oddWidth(format: PixelFormat, width: Int)

    public var description: String {
        switch self {
        case .invalidSize(let width, let height):
            "frame size \(width)x\(height) is out of range (1…\(FrameGeometry.maximumSide) per side)"
        case .oddWidth(let format, let width):
            "\(format) needs an even width, got \(width)"
        }
    }
}
