#if canImport(Glibc)
    import Glibc
#endif

/// The one way Vigie starts a thread of its own (for blocking work off the concurrency pool: the camera's
/// frame loop, the MQTT client's I/O, the outbox's writer, the control socket). Each has a name, shown by
/// `top -H` and `ps -L` (at most 15 characters).
public enum OSThread {
    /// Runs `body` on a new thread that nobody joins.
    public static func detach(_ name: String, _ body: @escaping @Sendable () -> Void) {
        pthread_detach(start(name, body))
    }

    /// Runs `body` on a new thread; join it with `pthread_join`.
    public static func start(_ name: String, _ body: @escaping @Sendable () -> Void) -> pthread_t {
        final class Box: Sendable {
            let name: String
            let body: @Sendable () -> Void
            init(_ name: String, _ body: @escaping @Sendable () -> Void) {
                self.name = name
                self.body = body
            }
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let status = pthread_create(
            &thread, nil,
            { raw in
                let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
                // The thread's name, as pthread_setname_np would set it (which needs _GNU_SOURCE).
                let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
                if comm >= 0 {
                    try? SystemCall.writeAll(String(box.name.prefix(15)), to: comm)
                    close(comm)
                }
                box.body()
                return nil
            }, context)
        precondition(status == 0, "cannot start the thread \(name): \(SystemError.describe(status))")
        return thread
    }
}
