/// A fixed set of reusable frames of one geometry, so that steady-state capture allocates nothing.
///
/// `take()` hands out a free frame or `nil` when all are in use (the caller drops the newest
/// frame rather than allocate); `recycle(_:)` gives it back. Not thread-safe: one pipeline owns it.
public final class FramePool {
    public let geometry: FrameGeometry
    private var free: [Frame]
    /// Number of frames the pool was created with.
    public let capacity: Int

    public init(geometry: FrameGeometry, capacity: Int) {
        precondition(capacity > 0, "a pool needs at least one frame")
        self.geometry = geometry
        self.capacity = capacity
        self.free = (0..<capacity).map { _ in Frame(geometry: geometry) }
        self.free.reserveCapacity(capacity)
    }

    /// Frames currently available.
    public var available: Int { free.count }

    /// A free frame, or `nil` when every frame is in use.
    public func take() -> Frame? { free.popLast() }

    /// Returns a frame taken from this pool.
    public func recycle(_ frame: Frame) {
        precondition(frame.geometry == geometry, "frame does not belong to this pool")
        precondition(free.count < capacity && !free.contains { $0 === frame }, "frame recycled twice")
        free.append(frame)
    }
}
