#if canImport(Glibc)
    import Glibc
#endif

/// Wakes a thread that waits with a timeout: a POSIX semaphore (no Dispatch). Each `post` lets one `wait` through.
public final class WakeSignal: Sendable {
    nonisolated(unsafe) private let semaphore: UnsafeMutablePointer<sem_t>

    public init() {
        semaphore = .allocate(capacity: 1)
        sem_init(semaphore, 0, 0)
    }

    deinit {
        sem_destroy(semaphore)
        semaphore.deallocate()
    }

    public func post() { sem_post(semaphore) }

    /// Waits until posted or `duration` has passed. (The deadline is on the wall clock, as `sem_timedwait` wants:
    /// callers wait at most a few seconds, so a step of the clock costs at most that.)
    public func wait(for duration: Duration) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let (seconds, attoseconds) = duration.components
        let nanoseconds = Int(deadline.tv_nsec) + Int(attoseconds / 1_000_000_000)
        deadline.tv_sec += Int(seconds) + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        _ = try? SystemCall.retrying("sem_timedwait") { sem_timedwait(semaphore, &deadline) }  // ETIMEDOUT: time
    }
}
