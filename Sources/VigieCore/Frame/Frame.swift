/// One video frame in a buffer owned by a `FramePool`.
///
/// A frame is touched in place along the pipeline: the source fills it, the privacy mask blanks it,
/// the detector reads it. It is a class because it has identity (its buffer is recycled), and it is
/// not `Sendable`: one stage owns it at a time.
public final class Frame {
    /// Layout of `bytes`.
    public let geometry: FrameGeometry
    /// The frame's memory: `geometry.byteCount` bytes, 64-byte aligned, owned by this object.
    public let bytes: UnsafeMutableRawBufferPointer
    /// Position of the frame in its stream, from 0. Gaps mean dropped frames.
    public var sequence: Int = 0
    /// Capture time in seconds from the start of the stream (or the driver's monotonic clock).
    public var timestamp: Double = 0

    /// Allocates a zeroed buffer for `geometry`. Prefer `FramePool.take()` on a hot path.
    public init(geometry: FrameGeometry) {
        self.geometry = geometry
        self.bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(geometry.byteCount, 1), alignment: 64)
        self.bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { bytes.deallocate() }

    /// The bytes of plane `index`, from its first row to the end of its last row's data.
    public func plane(_ index: Int) -> UnsafeMutableRawBufferPointer {
        let layout = geometry.planes[index]
        let length = layout.stride * (layout.rows - 1) + layout.rowBytes
        return UnsafeMutableRawBufferPointer(rebasing: bytes[layout.offset..<(layout.offset + length)])
    }

    /// Luma of pixel (`x`, `y`), whatever the format. For tests and tools, not for hot loops.
    public func luma(x: Int, y: Int) -> UInt8 {
        let layout = geometry.planes[0]
        return bytes[layout.offset + y * layout.stride + x * geometry.lumaStep]
    }

    /// Copies pixels from `other`, which must have the same geometry.
    public func copy(from other: Frame) {
        precondition(other.geometry == geometry, "frame geometries differ")
        bytes.copyMemory(from: UnsafeRawBufferPointer(other.bytes))
        sequence = other.sequence
        timestamp = other.timestamp
    }
}
