import Synchronization
import VigieCore

/// Commits events and activity minutes to the `EventStore` on a thread of its own, as the outbox's writer does:
/// `record` only appends to a list under a lock (the camera never waits on the disk), and each commit takes
/// everything waiting, so one fsync serves many events.
///
/// When the disk fails, what is waiting stays in memory (at most `maximumWaiting` events; beyond, the oldest
/// go; and at most `maximumSnapshotBytes` of snapshots: beyond, the oldest events lose their picture but are kept)
/// and the thread tries again every `retry`; `onFailure` hears of the first failure of each episode and
/// `onRecovery` of its end, so that the daemon can log and report them.
public final class EventRecorder: Sendable {
    public let store: EventStore
    public let maximumWaiting: Int
    public let maximumSnapshotBytes: Int
    private let retry: Duration
    private let waiting = Mutex(EventStore.Batch())
    private let signal = WakeSignal()
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let handlers: Mutex<(failure: (@Sendable (SQLiteError) -> Void)?, recovery: (@Sendable () -> Void)?)> =
        Mutex((nil, nil))

    public init(
        store: EventStore, maximumWaiting: Int = 10_000, maximumSnapshotBytes: Int = 32 << 20,
        retry: Duration = .seconds(1)
    ) {
        self.store = store
        self.maximumWaiting = maximumWaiting
        self.maximumSnapshotBytes = maximumSnapshotBytes
        self.retry = retry
        final class Context: Sendable {
            let recorder: EventRecorder
            init(_ recorder: EventRecorder) { self.recorder = recorder }
        }
        let context = Context(self)
        OSThread.detach("vigie-events") { context.recorder.run() }
    }

    /// Who hears of a write failure (first of an episode) and of the end of an episode. Call before recording.
    public func onProblems(failure: @escaping @Sendable (SQLiteError) -> Void, recovery: @escaping @Sendable () -> Void)
    {
        handlers.withLock { $0 = (failure, recovery) }
    }

    /// Queues an event (and its masked snapshot) for the next commit. Never waits on the disk.
    public func record(_ event: StoredEvent, snapshot: [UInt8]?) {
        waiting.withLock { batch in
            batch.events.append((event, snapshot))
            if batch.events.count > maximumWaiting { batch.events.removeFirst(batch.events.count - maximumWaiting) }
            Self.bound(&batch, snapshotBytes: maximumSnapshotBytes)
        }
        signal.post()
    }

    /// Queues a finished minute of activity for the next commit.
    public func record(minute: Int64, grid: ActivityGrid) {
        waiting.withLock { batch in
            batch.minutes.append((minute, grid))
            if batch.minutes.count > maximumWaiting { batch.minutes.removeFirst() }
        }
        signal.post()
    }

    /// Keeps the snapshots waiting within `limit` bytes: the oldest events lose their picture first (a failing disk
    /// must not run the unit out of memory); the events themselves stay.
    public static func bound(_ batch: inout EventStore.Batch, snapshotBytes limit: Int) {
        var total = batch.events.reduce(0) { $0 + ($1.snapshot?.count ?? 0) }
        var index = batch.events.startIndex
        while total > limit, index < batch.events.endIndex {
            if let snapshot = batch.events[index].snapshot {
                total -= snapshot.count
                batch.events[index].snapshot = nil
            }
            index += 1
        }
    }

    /// Whether nothing waits to be committed.
    public var isIdle: Bool { waiting.withLock { $0.isEmpty } }

    /// Waits up to `timeout` until what was recorded before the call is committed. Returns whether it is.
    public func flush(timeout: Duration = .seconds(5)) async -> Bool {
        signal.post()
        return await Poll.until(timeout: timeout, every: .milliseconds(5)) { isIdle && !committing }
    }

    private let busy = Atomic<Bool>(false)
    private var committing: Bool { busy.load(ordering: .acquiring) }

    /// Commits what waits one last time and ends the thread.
    public func stop() {
        stopping.store(true, ordering: .releasing)
        signal.post()
    }

    public var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func run() {
        var failing = false
        while true {
            let finishing = stopping.load(ordering: .acquiring)
            busy.store(true, ordering: .releasing)
            let batch = waiting.withLock { batch -> EventStore.Batch in
                defer { batch = EventStore.Batch() }
                return batch
            }
            var failed = false
            if !batch.isEmpty {
                do throws(SQLiteError) {
                    try store.write(batch)
                    if failing {
                        failing = false
                        handlers.withLock { $0.recovery }?()
                    }
                } catch {
                    failed = true
                    // Back in front of what came meanwhile, in the order raised.
                    waiting.withLock { waiting in
                        waiting.events = Array((batch.events + waiting.events).suffix(maximumWaiting))
                        waiting.minutes = Array((batch.minutes + waiting.minutes).suffix(maximumWaiting))
                        Self.bound(&waiting, snapshotBytes: maximumSnapshotBytes)
                    }
                    if !failing {
                        failing = true
                        handlers.withLock { $0.failure }?(error)
                    }
                }
            }
            busy.store(false, ordering: .releasing)
            if finishing { break }
            signal.wait(for: failed ? retry : .seconds(1))
        }
        stopped.store(true, ordering: .releasing)
    }
}
