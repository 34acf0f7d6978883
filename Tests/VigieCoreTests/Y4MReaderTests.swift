import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Y4M reader")
struct Y4MReaderTests {
    /// Writes `bytes` to a new temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8]) -> String {
        var template = Array("/tmp/vigie-y4m-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        precondition(fd >= 0)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func stream(header: String, frames: [[UInt8]]) -> [UInt8] {
        var bytes = Array(header.utf8)
        for frame in frames { bytes += Array("FRAME\n".utf8) + frame }
        return bytes
    }

    @Test func readsFramesAndTimestamps() throws {
        let frameBytes = 4 * 2 + 2 * (2 * 1)
        let frames = (0..<3).map { index in [UInt8](repeating: UInt8(index * 10), count: frameBytes) }
        let path = Self.temporaryFile(
            Self.stream(header: "YUV4MPEG2 W4 H2 F10:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n", frames: frames))
        defer { unlink(path) }
        let reader = try Y4MReader(path: path)
        #expect(reader.header.geometry == (try FrameGeometry(format: .i420, width: 4, height: 2)))
        #expect(reader.header.framesPerSecond == 10)
        let frame = Frame(geometry: reader.header.geometry)
        var seen: [UInt8] = []
        while try reader.read(into: frame) {
            seen.append(frame.bytes[0])
            #expect(frame.timestamp == Double(frame.sequence) / 10)
        }
        #expect(seen == [0, 10, 20])
    }

    @Test func monoIsGrey() throws {
        let path = Self.temporaryFile(
            Self.stream(header: "YUV4MPEG2 W3 H3 F25:1 Cmono\n", frames: [[UInt8](repeating: 7, count: 9)]))
        defer { unlink(path) }
        let reader = try Y4MReader(path: path)
        #expect(reader.header.geometry.format == .grey)
        let frame = Frame(geometry: reader.header.geometry)
        #expect(try reader.read(into: frame))
        #expect(frame.luma(x: 2, y: 2) == 7)
        #expect(try !reader.read(into: frame))
    }

    @Test(
        "malformed headers name the problem",
        arguments: [
            ("", "not a Y4M stream"),
            ("P6\n640 480\n", "not a Y4M stream"),
            ("YUV4MPEG2 H480\n", "no W field"),
            ("YUV4MPEG2 W640\n", "no H field"),
            ("YUV4MPEG2 W99999 H480\n", "header field W"),
            ("YUV4MPEG2 W-3 H480\n", "header field W"),
            ("YUV4MPEG2 Wabc H480\n", "header field W"),
            ("YUV4MPEG2 W640 H480 F0:1\n", "header field F"),
            ("YUV4MPEG2 W640 H480 F25\n", "header field F"),
            ("YUV4MPEG2 W640 H480 C444\n", "colour space C444"),
            ("YUV4MPEG2 W640 H480", "middle of a header"),
        ])
    func malformedHeaders(text: String, expected: String) {
        let path = Self.temporaryFile(Array(text.utf8))
        defer { unlink(path) }
        do {
            _ = try Y4MReader(path: path)
            Issue.record("accepted a malformed header: \(text.prefix(40))")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.hasPrefix(path))
        }
    }

    @Test func overlongHeaderIsRefused() {
        let path = Self.temporaryFile(
            Array(("YUV4MPEG2 W640 H480 X" + String(repeating: "a", count: 70_000) + "\n").utf8))
        defer { unlink(path) }
        #expect(throws: Y4MError.headerTooLong(name: path, limit: Y4MReader.maximumLineLength)) {
            try Y4MReader(path: path)
        }
    }

    @Test func truncatedFrameIsAnError() throws {
        var bytes = Self.stream(header: "YUV4MPEG2 W4 H4 F25:1 Cmono\n", frames: [[UInt8](repeating: 1, count: 16)])
        bytes += Array("FRAME\n".utf8) + [1, 2, 3]
        let path = Self.temporaryFile(bytes)
        defer { unlink(path) }
        let reader = try Y4MReader(path: path)
        let frame = Frame(geometry: reader.header.geometry)
        #expect(try reader.read(into: frame))
        #expect(throws: Y4MError.truncatedFrame(name: path, frame: 1, got: 3, expected: 16)) {
            try reader.read(into: frame)
        }
    }

    @Test func badFrameMarkerIsAnError() throws {
        let bytes = Array("YUV4MPEG2 W2 H2 F25:1 Cmono\nFRAMX\n1234".utf8)
        let path = Self.temporaryFile(bytes)
        defer { unlink(path) }
        let reader = try Y4MReader(path: path)
        #expect(throws: Y4MError.badFrameMarker(name: path, frame: 0)) {
            try reader.read(into: Frame(geometry: reader.header.geometry))
        }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: Y4MError.cannotOpen(path: "/nonexistent/clip.y4m", errno: ENOENT)) {
            try Y4MReader(path: "/nonexistent/clip.y4m")
        }
    }

    @Test func fileSourceLoopsWithRunningTime() throws {
        let path = Self.temporaryFile(
            Self.stream(header: "YUV4MPEG2 W2 H2 F5:1 Cmono\n", frames: [[1, 1, 1, 1], [2, 2, 2, 2]]))
        defer { unlink(path) }
        let source = try Y4MFileSource(path: path, loop: true)
        let frame = Frame(geometry: source.geometry)
        var values: [UInt8] = []
        for _ in 0..<5 {
            #expect(try source.next(into: frame))
            values.append(frame.bytes[0])
        }
        #expect(values == [1, 2, 1, 2, 1])
        #expect(frame.sequence == 4)
        #expect(frame.timestamp == 0.8)
    }
}
