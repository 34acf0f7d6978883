import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGTERM, SIGINT and SIGHUP into a stream, without a moment when one is lost: the handler, installed
/// with `sigaction` for the whole process at once, only writes the signal's number into a pipe (what a handler
/// may safely do), and a thread of its own reads the pipe. Before `start`, the default actions apply (a SIGTERM
/// while the configuration loads ends the process, which is right).
public enum SignalWatcher {
    /// The pipe's write end, for the handler; set once, before the handler is installed.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    /// Installs the handlers and returns the signals as they come. Call once.
    public static func start(_ signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) -> AsyncStream<Int32> {
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "cannot make the signal pipe")
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // never inherited by a child process
        // A full pipe (a storm of signals nobody reads) drops the extra ones rather than block a handler.
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        writeEnd = ends[1]
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let readEnd = ends[0]
        OSThread.detach("vigie-signals") {
            var byte: [UInt8] = [0]
            while byte.withUnsafeMutableBytes({ (try? SystemCall.read(readEnd, into: $0)) == 1 }) {
                continuation.yield(Int32(byte[0]))
            }
            continuation.finish()
        }
        for number in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                let saved = errno
                _ = write(SignalWatcher.writeEnd, &byte, 1)
                errno = saved
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            precondition(sigaction(number, &action, nil) == 0, "cannot install the handler of signal \(number)")
        }
        return stream
    }
}
