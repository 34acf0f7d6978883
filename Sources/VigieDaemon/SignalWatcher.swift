import CLinux
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Turns SIGTERM, SIGINT and SIGHUP into a stream, without a moment when one is lost: the handler (in C, see
/// `CLinux`), installed with `sigaction` for the whole process at once, only writes the signal's number into a
/// pipe, and a thread of its own reads the pipe. Also ignores SIGPIPE: a technician's `vigie status` that hangs up
/// before the reply must not end the daemon. Call `start` first thing: before it, the default actions apply.
public enum SignalWatcher {
    /// Installs the handlers and returns the signals as they come. Call once.
    public static func start(_ signals: [Int32] = [SIGTERM, SIGINT, SIGHUP]) -> AsyncStream<Int32> {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [0, 0]
        precondition(pipe(&ends) == 0, "cannot make the signal pipe")
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }  // never inherited by a child process
        // A full pipe (a storm of signals nobody reads) drops the extra ones rather than block a handler.
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
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
            precondition(
                clinux_forward_signal(number, ends[1]) == 0, "cannot install the handler of signal \(number)")
        }
        return stream
    }
}
