import Synchronization
import VigieCore

/// Commits events and activity minutes to the `EventStore` on a thread of its own, as the outbox's writer does:
/// `record` only appends to a list under a lock (the camera never waits on the disk), and each commit takes
/// everything waiting, so one fsync serves many events.
///
/// The store can be opened on that thread too (`init(opening:)`): checking a large store on an SD card takes tens
/// of seconds, and the unit must not wait for it to watch, to answer a caller, or to tell the centre it is up.
/// What is recorded meanwhile waits in memory, within the same bounds, and is committed once the store is open. A
/// store that cannot be opened (a read-only or missing folder) is a failure like a write's: tried again every
/// `openRetry`.
///
/// When the disk fails, what is waiting stays in memory (at most `maximumWaiting` events; beyond, the oldest
/// go; and at most `maximumSnapshotBytes` of snapshots: beyond, the oldest events lose their picture but are kept)
/// and the thread tries again every `retry`. Failures are told once per episode, as the outbox's are
/// (`StorageHealth`): `onProblems`' `failure` hears of the first failure of an episode and `recovery` of its end,
/// once the store has opened and written for `settle` without failing again (a flapping disk makes one report).
public final class EventRecorder: Sendable {
    /// The first failure of an episode.
    public struct Problem: Sendable {
        public var error: SQLiteError
        /// The store could not be opened (else a commit failed).
        public var opening: Bool
        /// Events waiting in memory instead.
        public var heldInMemory: Int
    }

    /// The end of an episode.
    public struct Recovery: Sendable {
        /// As the episode's first failure.
        public var opening: Bool
        public var duration: Duration
        /// Attempts (opens and commits) that failed in the episode.
        public var failures: Int
        /// Events committed since the episode began.
        public var written: Int
    }

    private enum Opening {
        case opening(@Sendable () throws(SQLiteError) -> EventStore)
        case open(EventStore)
    }
    public let maximumWaiting: Int
    public let maximumSnapshotBytes: Int
    private let retry: Duration
    /// How long the store must open and write without failing before an episode ends.
    public let settle: Duration
    private let opening: Mutex<Opening>
    private let openFailed = Atomic<Bool>(false)
    private let waiting = Mutex(EventStore.Batch())
    private let signal = WakeSignal()
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    private let handlers: Mutex<(failure: (@Sendable (Problem) -> Void)?, recovery: (@Sendable (Recovery) -> Void)?)> =
        Mutex((nil, nil))

    /// A recorder for a store already open.
    public convenience init(
        store: EventStore, maximumWaiting: Int = 10_000, maximumSnapshotBytes: Int = 32 << 20,
        retry: Duration = .seconds(1), settle: Duration = .seconds(10)
    ) {
        self.init(
            state: .open(store), maximumWaiting: maximumWaiting, maximumSnapshotBytes: maximumSnapshotBytes,
            retry: retry, settle: settle)
    }

    /// A recorder that opens its store on its own thread with `open` (which may take long: see the type's
    /// description), called again every `openRetry` while it throws.
    public convenience init(
        opening open: @escaping @Sendable () throws(SQLiteError) -> EventStore, maximumWaiting: Int = 10_000,
        maximumSnapshotBytes: Int = 32 << 20, retry: Duration = .seconds(1), settle: Duration = .seconds(10)
    ) {
        self.init(
            state: .opening(open), maximumWaiting: maximumWaiting, maximumSnapshotBytes: maximumSnapshotBytes,
            retry: retry, settle: settle)
    }

    private init(state: Opening, maximumWaiting: Int, maximumSnapshotBytes: Int, retry: Duration, settle: Duration) {
        opening = Mutex(state)
        self.settle = settle
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

    /// The store, once open; `nil` while it opens (or fails to).
    public var store: EventStore? {
        opening.withLock { if case .open(let store) = $0 { store } else { nil } }
    }

    /// Whether the store is not open yet.
    public var isOpening: Bool {
        opening.withLock { if case .opening = $0 { true } else { false } }
    }

    /// Whether the store is not open and an attempt to open it failed (it is tried again).
    public var cannotOpen: Bool { isOpening && openFailed.load(ordering: .acquiring) }

    /// Waits up to `timeout` for the store to be open; `nil` if it is not open by then.
    public func opened(timeout: Duration) async -> EventStore? {
        // Quick for a command that waits a moment; calmer for a wait that may last as long as an SD card's check.
        let interval: Duration = timeout > .seconds(5) ? .milliseconds(250) : .milliseconds(20)
        _ = await Poll.until(timeout: timeout, every: interval) { !isOpening }
        return store
    }

    /// Seconds between two attempts to open a store that could not be opened.
    public var openRetry: Duration { retry * 5 }

    /// Who hears of the first failure of an episode and of its end. An episode that begins before they are set is
    /// told at the next failure.
    public func onProblems(
        failure: @escaping @Sendable (Problem) -> Void, recovery: @escaping @Sendable (Recovery) -> Void
    ) {
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

    /// Events waiting to be committed.
    public var waitingEvents: Int { waiting.withLock { $0.events.count } }

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

    /// The store, opened now if it is not yet.
    private func openStore() -> Result<EventStore, SQLiteError> {
        let state = opening.withLock { $0 }
        switch state {
        case .open(let store): return .success(store)
        case .opening(let open):
            do throws(SQLiteError) {
                let store = try open()
                opening.withLock { $0 = .open(store) }
                return .success(store)
            } catch {
                openFailed.store(true, ordering: .releasing)
                return .failure(error)
            }
        }
    }

    /// A failure episode in progress (see the type's description).
    private struct Episode {
        var opening: Bool
        var start: ContinuousClock.Instant
        var failures = 0
        var written = 0
        var told = false
        /// Since when opening and commits have worked, if they have.
        var working: ContinuousClock.Instant?
    }

    private func run() {
        var episode: Episode?
        func failed(_ error: SQLiteError, opening: Bool) {
            var current = episode ?? Episode(opening: opening, start: .now)
            current.failures += 1
            current.working = nil
            if !current.told, let failure = handlers.withLock({ $0.failure }) {
                current.told = true
                let held = waiting.withLock { $0.events.count }
                failure(Problem(error: error, opening: current.opening, heldInMemory: held))
            }
            episode = current
        }
        func worked(written: Int) {
            guard var current = episode else { return }
            current.written += written
            let now = ContinuousClock.now
            let since = current.working ?? now
            current.working = since
            episode = current
            guard now - since >= settle else { return }
            episode = nil
            guard current.told else { return }
            handlers.withLock { $0.recovery }?(
                Recovery(
                    opening: current.opening, duration: now - current.start, failures: current.failures,
                    written: current.written))
        }
        commits: while true {
            let finishing = stopping.load(ordering: .acquiring)
            let store: EventStore
            switch openStore() {
            case .success(let open): store = open
            case .failure(let error):
                failed(error, opening: true)
                if finishing { break commits }
                pause(openRetry)
                continue
            }
            busy.store(true, ordering: .releasing)
            let batch = waiting.withLock { batch -> EventStore.Batch in
                defer { batch = EventStore.Batch() }
                return batch
            }
            var didFail = false
            do throws(SQLiteError) {
                if !batch.isEmpty { try store.write(batch) }
                worked(written: batch.events.count)
            } catch {
                didFail = true
                // Back in front of what came meanwhile, in the order raised.
                waiting.withLock { waiting in
                    waiting.events = Array((batch.events + waiting.events).suffix(maximumWaiting))
                    waiting.minutes = Array((batch.minutes + waiting.minutes).suffix(maximumWaiting))
                    Self.bound(&waiting, snapshotBytes: maximumSnapshotBytes)
                }
                failed(error, opening: false)
            }
            busy.store(false, ordering: .releasing)
            if finishing { break }
            if didFail {
                pause(retry)
            } else {
                signal.wait(for: .seconds(1))
            }
        }
        stopped.store(true, ordering: .releasing)
    }

    /// Waits `duration` whatever is recorded meanwhile (each record posts the signal), unless stopping.
    private func pause(_ duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while !stopping.load(ordering: .acquiring) {
            let left = deadline - .now
            guard left > .zero else { return }
            signal.wait(for: left)
        }
    }
}
