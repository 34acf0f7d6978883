#if canImport(Glibc)
    import Glibc
#endif

/// A system call that failed: its name and `errno`.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public let call: String
    public let code: Int32

    public init(_ call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(SystemError.describe(code))" }
}

/// The one place where a system call is retried after EINTR and its failure named.
public enum SystemCall {
    /// Calls `body` until it does not fail with EINTR; a negative result becomes a `SystemCallError` named `name`.
    @discardableResult
    public static func retrying<Result: BinaryInteger>(_ name: String, _ body: () -> Result) throws(SystemCallError)
        -> Result
    {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code != EINTR { throw SystemCallError(name, code: code) }
        }
    }

    /// Writes all of `bytes` to `descriptor`, through short writes and interruptions.
    public static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32) throws(SystemCallError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            offset += try retrying("write") { write(descriptor, base + offset, bytes.count - offset) }
        }
    }

    /// One read into `buffer`: the bytes read, 0 at the end of the stream.
    public static func read(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError)
        -> Int
    {
        try retrying("read") { Glibc.read(descriptor, buffer.baseAddress, buffer.count) }
    }

    /// Reads `descriptor` to its end; more than `limit` bytes is an error (`EFBIG`).
    public static func readAll(_ descriptor: Int32, limit: Int = .max) throws(SystemCallError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var failure: SystemCallError?
            let count = chunk.withUnsafeMutableBytes { buffer -> Int in
                do throws(SystemCallError) { return try read(descriptor, into: buffer) } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            if bytes.count > limit { throw SystemCallError("read", code: EFBIG) }
        }
    }

    /// Sleeps for `duration`, through interruptions.
    public static func sleep(_ duration: Duration) {
        guard duration > .zero else { return }
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Writes all of `text` to `descriptor`.
    public static func writeAll(_ text: String, to descriptor: Int32) throws(SystemCallError) {
        var failure: SystemCallError?
        Array(text.utf8).withUnsafeBytes { raw in
            do throws(SystemCallError) { try writeAll(raw, to: descriptor) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// The names in the folder at `path` (not `.` nor `..`), or `nil` if it cannot be read.
    public static func names(inFolder path: String) -> [String]? {
        guard let folder = opendir(path) else { return nil }
        defer { closedir(folder) }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes `text` to `path` atomically (a temporary file beside it, fsync, rename), mode 0600; returns why it
    /// failed, if it did.
    public static func replaceFile(_ path: String, with text: String) -> String? {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return SystemError.describe(errno) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { return "write failed: \(SystemError.describe(errno))" }
        guard rename(temporary, path) == 0 else { return SystemError.describe(errno) }
        return nil
    }
}
