#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Waits for a condition by checking it again at a fixed interval until it holds or a timeout passes.
///
/// The one wait-and-retry loop of the code base, for what gives no event to wait on: a port that starts
/// listening, a child process that exits, a flag set by another thread, a message a test expects. Where an
/// event exists (a continuation, a stream), await the event instead.
public enum Poll {
    /// The interval between two checks unless a caller gives another.
    public static let interval: Duration = .milliseconds(50)

    /// Blocks the calling thread until `condition` returns true or `timeout` has passed. The condition is
    /// checked at once, then after each interval, and a last time at the deadline. Returns whether it held.
    /// For threads outside Swift concurrency (an I/O thread); a task uses `until`.
    @discardableResult
    public static func blockingUntil(
        timeout: Duration, every interval: Duration = Poll.interval, _ condition: () throws -> Bool
    ) rethrows -> Bool {
        let deadline = Deadline(timeout: timeout, interval: interval)
        while true {
            if try condition() { return true }
            guard let pause = deadline.nextPause() else { return false }
            sleep(pause)
        }
    }

    /// The same from a task: suspends between checks instead of blocking a thread, and runs `condition` on the
    /// caller's actor (so it may read that actor's state). Returns false early if the task is cancelled.
    public static func until(
        timeout: Duration, every interval: Duration = Poll.interval,
        isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = Deadline(timeout: timeout, interval: interval)
        while true {
            if try await condition() { return true }
            guard let pause = deadline.nextPause(), !Task.isCancelled else { return false }
            try? await Task.sleep(for: pause)
        }
    }

    /// How long to pause before the next check; nil once a check has been made at or after the deadline.
    struct Deadline {
        let clock = ContinuousClock()
        let end: ContinuousClock.Instant
        let interval: Duration

        init(timeout: Duration, interval: Duration) {
            end = clock.now + max(.zero, timeout)
            self.interval = max(.milliseconds(1), interval)
        }

        func nextPause() -> Duration? {
            let left = end - clock.now
            return left > .zero ? min(interval, left) : nil
        }
    }

    static func sleep(_ duration: Duration) { SystemCall.sleep(duration) }
}
