import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a descriptor line by line on a thread of its own (a pipe between the fleet's processes), so that a
/// blocking read never holds a thread of Swift's concurrency pool.
enum LineReader {
    /// Calls `line` for each line read from `descriptor` (without its newline), then `end` at end of file. The
    /// descriptor is closed then.
    static func start(
        _ descriptor: Int32, line: @escaping @Sendable (String) -> Void, end: @escaping @Sendable () -> Void
    ) {
        let context = Context(descriptor: descriptor, line: line, end: end)
        OSThread.detach("bench-reader") { context.read() }
    }

    private final class Context: Sendable {
        let descriptor: Int32
        let line: @Sendable (String) -> Void
        let end: @Sendable () -> Void

        init(descriptor: Int32, line: @escaping @Sendable (String) -> Void, end: @escaping @Sendable () -> Void) {
            self.descriptor = descriptor
            self.line = line
            self.end = end
        }

        func read() {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { (try? SystemCall.read(descriptor, into: $0)) ?? 0 }
                guard count > 0 else { break }
                pending += chunk[..<count]
                var start = 0
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    line(String(decoding: pending[start..<newline], as: UTF8.self))
                    start = newline + 1
                }
                pending.removeFirst(start)
            }
            close(descriptor)
            end()
        }
    }
}
