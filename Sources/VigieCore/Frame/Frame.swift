/// One video frame in a buffer that is reused: a `FramePool`'s, a file source's, or a camera driver's
/// memory-mapped buffer.
///
/// A frame is touched in place along the pipeline: the source fills it (or the driver did), the privacy mask
/// blanks it, the detector reads it. It is a class because it has identity (its buffer is recycled), and it
/// is not `Sendable`: one stage owns it at a time.
public final class Frame {
    /// Layout of `bytes`.
    public let geometry: FrameGeometry
    /// The frame's memory: at least `geometry.byteCount` bytes, owned by this object (allocated here, or
    /// lent by a device and given back by `release` when the frame goes away).
    public let bytes: UnsafeMutableRawBufferPointer
    private let release: (() -> Void)?
    /// Position of the frame in its stream, from 0. Gaps mean dropped frames.
    public var sequence: Int = 0
    /// Capture time in seconds from the start of the stream (or the driver's monotonic clock).
    public var timestamp: Double = 0

    /// Allocates a zeroed buffer for `geometry`. Prefer `FramePool.take()` on a hot path.
    public init(geometry: FrameGeometry) {
        self.geometry = geometry
        self.bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(geometry.byteCount, 1), alignment: 64)
        self.bytes.initializeMemory(as: UInt8.self, repeating: 0)
        self.release = nil
    }

    /// Wraps memory this object does not allocate (a driver's memory-mapped buffer), so the pipeline can work
    /// in place with no copy. `release` runs once, when the frame goes away (e.g. `munmap`), so the memory
    /// outlives every reference to the frame.
    public init(geometry: FrameGeometry, wrapping bytes: UnsafeMutableRawBufferPointer, release: @escaping () -> Void) {
        precondition(bytes.count >= geometry.byteCount, "a \(bytes.count)-byte buffer cannot hold \(geometry)")
        self.geometry = geometry
        self.bytes = bytes
        self.release = release
    }

    deinit {
        if let release { release() } else { bytes.deallocate() }
    }

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
        bytes.baseAddress!.copyMemory(from: other.bytes.baseAddress!, byteCount: geometry.byteCount)
        sequence = other.sequence
        timestamp = other.timestamp
    }
}
