#if canImport(Glibc)
    import Glibc
#endif

/// Reading a small text file without Foundation.
public enum TextFile {
    /// Why a file could not be read.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        case cannotOpen(errno: Int32)
        case tooLarge(limit: Int)
        case readFailed(errno: Int32)
        case notUTF8

        public var description: String {
            switch self {
            case .cannotOpen(let code): "cannot open: \(SystemError.describe(code))"
            case .tooLarge(let limit): "file is larger than \(limit) bytes"
            case .readFailed(let code): "read failed: \(SystemError.describe(code))"
            case .notUTF8: "file is not UTF-8 text"
            }
        }
    }

    /// The whole file as UTF-8 text, refusing more than `limit` bytes.
    public static func read(path: String, limit: Int) throws(Failure) -> String {
        guard let text = String(validating: try bytes(path: path, limit: limit), as: UTF8.self) else {
            throw .notUTF8
        }
        return text
    }

    /// The whole file's bytes, refusing more than `limit` bytes (a WAV clip, a certificate).
    public static func bytes(path: String, limit: Int) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(errno: errno) }
        defer { close(fd) }
        let bytes: [UInt8]
        do throws(SystemCallError) {
            bytes = try SystemCall.readAll(fd, limit: limit)
        } catch {
            throw error.code == EFBIG ? .tooLarge(limit: limit) : .readFailed(errno: error.code)
        }
        return bytes
    }
}
