#if canImport(Glibc)
    import Glibc
#endif

/// Writes frames as a Y4M stream (I420 as `C420jpeg`, GREY as `Cmono`), to a file or standard output.
public final class Y4MWriter {
    public let header: Y4MHeader
    private let fd: Int32
    private let ownsDescriptor: Bool
    private let name: String

    /// Creates (or truncates) `path`, or writes to standard output when `path` is `-`.
    public init(path: String, header: Y4MHeader) throws(Y4MError) {
        guard header.geometry.format == .i420 || header.geometry.format == .grey else {
            throw .unsupportedColourSpace(name: path, value: header.geometry.format.rawValue)
        }
        self.header = header
        self.name = path == "-" ? "standard output" : path
        if path == "-" {
            fd = 1
            ownsDescriptor = false
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
            ownsDescriptor = true
        }
        try write(Array(header.line.utf8))
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Appends `frame`, which must have the header's geometry (tightly packed planes).
    public func write(_ frame: Frame) throws(Y4MError) {
        guard frame.geometry == header.geometry else { throw .geometryMismatch(name: name) }
        try write(Self.frameMarker)
        try write(UnsafeRawBufferPointer(frame.bytes))
    }

    private static let frameMarker = Array("FRAME\n".utf8)

    private func write(_ bytes: [UInt8]) throws(Y4MError) {
        let failure: Y4MError? = bytes.withUnsafeBytes { raw in
            do throws(Y4MError) {
                try write(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws(Y4MError) {
        do throws(SystemCallError) {
            try SystemCall.writeAll(bytes, to: fd)
        } catch {
            throw .readFailed(name: name, errno: error.code)
        }
    }
}
