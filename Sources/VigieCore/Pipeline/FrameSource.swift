/// Where frames come from: a camera, a recording, a generated scene.
public protocol FrameSource: AnyObject {
    /// Geometry of every frame this source produces.
    var geometry: FrameGeometry { get }
    /// Nominal frame rate.
    var framesPerSecond: Double { get }
    /// Fills `frame` (of `geometry`) with the next frame. Returns `false` when the source has ended.
    func next(into frame: Frame) throws -> Bool
}

/// Frames from a Y4M file, optionally replayed from the start when it ends.
public final class Y4MFileSource: FrameSource {
    public let path: String
    public let loop: Bool
    private var reader: Y4MReader
    private var sequence = 0

    public init(path: String, loop: Bool) throws(Y4MError) {
        self.path = path
        self.loop = loop
        self.reader = try Y4MReader(path: path)
    }

    public var geometry: FrameGeometry { reader.header.geometry }
    public var framesPerSecond: Double { reader.header.framesPerSecond }

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
