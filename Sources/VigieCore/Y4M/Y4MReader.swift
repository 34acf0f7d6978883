#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads frames from a Y4M (YUV4MPEG2) stream: a file, or standard input for
/// `ffmpeg -i footage.mp4 -f yuv4mpegpipe - | vigie analyze -`.
///
/// Frame data is read straight into the caller's `Frame` buffer; nothing is allocated per frame.
public final class Y4MReader {
    /// Longest header or frame-marker line accepted.
    public static let maximumLineLength = 4096

    /// The stream's header.
    public let header: Y4MHeader
    /// The name used in errors (the path, or "standard input").
    public let name: String
    /// Frames read so far.
    public private(set) var framesRead = 0

    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0

    /// Opens `path`, or standard input when `path` is `-`, and reads the header.
    public convenience init(path: String) throws(Y4MError) {
        if path == "-" {
            try self.init(fileDescriptor: 0, name: "standard input", ownsDescriptor: false)
            return
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        try self.init(fileDescriptor: fd, name: path, ownsDescriptor: true)
    }

    /// Reads the header from an open descriptor. When `ownsDescriptor` is true the reader closes it.
    public init(fileDescriptor: Int32, name: String, ownsDescriptor: Bool) throws(Y4MError) {
        self.fd = fileDescriptor
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        self.buffer = [UInt8](repeating: 0, count: 64 * 1024)
        do throws(Y4MError) {
            guard let line = try Self.readLine(fd: fd, name: name, buffer: &buffer, start: &start, end: &end) else {
                throw Y4MError.notY4M(name: name)
            }
            header = try Y4MHeader(line: line, name: name)
        } catch {
            if ownsDescriptor { close(fileDescriptor) }
            throw error
        }
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Reads the next frame into `frame`, which must have the header's geometry.
    ///
    /// - Returns: `false` at the clean end of the stream.
    /// - Throws: `Y4MError` on a malformed marker, a truncated frame or an I/O error.
    public func read(into frame: Frame) throws(Y4MError) -> Bool {
        guard frame.geometry == header.geometry else { throw .geometryMismatch(name: name) }
        guard let marker = try Self.readLine(fd: fd, name: name, buffer: &buffer, start: &start, end: &end) else {
            return false
        }
        guard marker.starts(with: Self.frameTag) else { throw .badFrameMarker(name: name, frame: framesRead) }
        let expected = header.geometry.byteCount
        var filled = min(end - start, expected)
        buffer.withUnsafeBytes { source in
            frame.bytes.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: filled)
        }
        start += filled
        while filled < expected {
            let count: Int
            do throws(SystemCallError) {
                count = try SystemCall.read(
                    fd, into: UnsafeMutableRawBufferPointer(rebasing: frame.bytes[filled..<expected]))
            } catch {
                throw .readFailed(name: name, errno: error.code)
            }
            if count == 0 { throw .truncatedFrame(name: name, frame: framesRead, got: filled, expected: expected) }
            filled += count
        }
        frame.sequence = framesRead
        frame.timestamp = Double(framesRead) / header.framesPerSecond
        framesRead += 1
        return true
    }

    private static let frameTag = Array("FRAME".utf8)

    /// The next line without its newline, or `nil` at end of stream with nothing buffered.
    private static func readLine(
        fd: Int32, name: String, buffer: inout [UInt8], start: inout Int, end: inout Int
    ) throws(Y4MError) -> ArraySlice<UInt8>? {
        var scanned = start
        while true {
            if let newline = buffer[scanned..<end].firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[start..<newline]
                start = newline + 1
                return line
            }
            if end - start >= maximumLineLength { throw .headerTooLong(name: name, limit: maximumLineLength) }
            scanned = end
            if start > 0 {
                // Keep the partial line at the front so the buffer never grows.
                buffer.replaceSubrange(0..<(end - start), with: buffer[start..<end])
                scanned -= start
                end -= start
                start = 0
            }
            let capacity = buffer.count
            let result = buffer.withUnsafeMutableBytes { bytes -> Result<Int, SystemCallError> in
                Result { () throws(SystemCallError) in
                    try SystemCall.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: bytes[end..<capacity]))
                }
            }
            let count: Int
            switch result {
            case .success(let read): count = read
            case .failure(let error): throw .readFailed(name: name, errno: error.code)
            }
            if count == 0 {
                if end == start { return nil }
                throw .truncatedLine(name: name)
            }
            end += count
        }
    }
}
