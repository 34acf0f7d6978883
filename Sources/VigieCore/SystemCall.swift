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

    /// Writes all of `text` to `descriptor`.
    public static func writeAll(_ text: String, to descriptor: Int32) throws(SystemCallError) {
        var failure: SystemCallError?
        Array(text.utf8).withUnsafeBytes { raw in
            do throws(SystemCallError) { try writeAll(raw, to: descriptor) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
