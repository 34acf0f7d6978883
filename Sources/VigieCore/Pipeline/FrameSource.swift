/// Where frames come from: a camera, a recording, a generated scene.
///
/// A source lends each frame to the pipeline for the duration of one call, so a camera can hand over its
/// driver's buffer itself (masked in place, then given back to the driver) instead of a copy. Each frame
/// carries its own geometry: a camera that comes back at another size gives frames of that size.
public protocol FrameSource: AnyObject {
    /// Nominal frame rate.
    var framesPerSecond: Double { get }
    /// Whether the source delivers frames at their own pace (a camera); otherwise the caller paces them.
    var pacesItself: Bool { get }
    /// Frames lost before they reached the pipeline (gaps in a camera's sequence numbers), since the start.
    var droppedFrames: Int { get }

    /// Waits for the next frame and lends it to `body`, which may change its pixels in place (the privacy
    /// mask does) and must not keep it. Returns `body`'s result, or `nil` when the source has ended.
    func withNextFrame<Result>(_ body: (Frame) throws -> Result) throws -> Result?

    /// Whether the frame just lent is the first after a break in the stream (a camera reconnect): the
    /// detector must re-learn the scene.
    func takeRelearn() -> Bool

    /// Releases the device or file. Safe to call twice.
    func close()
}

extension FrameSource {
    public var pacesItself: Bool { false }
    public var droppedFrames: Int { 0 }
    public func takeRelearn() -> Bool { false }
    public func close() {}
}

/// A source that writes each frame into a buffer it is given (a recording, a generated scene): fixed
/// geometry, known in advance.
public protocol FillingFrameSource: FrameSource {
    /// Geometry of every frame this source produces.
    var geometry: FrameGeometry { get }
    /// Fills `frame` (of `geometry`) with the next frame. Returns `false` when the source has ended.
    func next(into frame: Frame) throws -> Bool
}

/// Frames from a Y4M file, optionally replayed from the start when it ends.
public final class Y4MFileSource: FillingFrameSource {
    public let path: String
    public let loop: Bool
    private var reader: Y4MReader
    private var sequence = 0
    private lazy var buffer = Frame(geometry: geometry)

    public init(path: String, loop: Bool) throws(Y4MError) {
        self.path = path
        self.loop = loop
        self.reader = try Y4MReader(path: path)
    }

    public var geometry: FrameGeometry { reader.header.geometry }
    public var framesPerSecond: Double { reader.header.framesPerSecond }

    public func withNextFrame<Result>(_ body: (Frame) throws -> Result) throws -> Result? {
        try next(into: buffer) ? body(buffer) : nil
    }

    public func next(into frame: Frame) throws -> Bool {
        if try !reader.read(into: frame) {
            guard loop, reader.framesRead > 0 else { return false }
            let again = try Y4MReader(path: path)
            guard again.header == reader.header else { throw Y4MError.geometryMismatch(name: path) }
            reader = again
            guard try reader.read(into: frame) else { return false }
        }
        // Keep numbering and time running across loops, as a camera would.
        frame.sequence = sequence
        frame.timestamp = Double(sequence) / framesPerSecond
        sequence += 1
        return true
    }
}
