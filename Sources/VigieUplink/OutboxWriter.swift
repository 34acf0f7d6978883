import Logging
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Commits the delivery ledger's batches to the outbox on a thread of its own: each commit takes everything
/// waiting (one fsync for many events), in the order raised, with the removals of delivered items.
///
/// When the disk fails (full, I/O errors, read-only) the items stay in memory and are delivered from there;
/// the writer tries again with backoff (never on every event: a dead disk is not hammered), writing removals on
/// their own first so that a full disk frees room. `StorageHealth` turns the failures into one `storage_fault`
/// per episode and a `storage_recovered` at its end, raised like any event.
final class OutboxWriter: Sendable {
    private let outbox: any Outbox
    private let options: UplinkService.StorageOptions
    private let logger: Logger
    private let signal = WakeSignal()
    /// Set by `poke`, cleared by the thread before it takes a batch: many pokes, one wake-up.
    private let poked = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(outbox: any Outbox, options: UplinkService.StorageOptions, logger: Logger) {
        self.outbox = outbox
        self.options = options
        self.logger = logger
    }

    /// Starts the thread, which holds `queue` until it stops.
    func start(_ queue: DeliveryQueue) {
        final class Context: Sendable {
            let writer: OutboxWriter
            let queue: DeliveryQueue
            init(_ writer: OutboxWriter, _ queue: DeliveryQueue) {
                self.writer = writer
                self.queue = queue
            }
        }
        let context = Context(self, queue)
        OSThread.detach("vigie-outbox") { context.writer.run(context.queue) }
    }

    /// There is something to write.
    func poke() {
        if !poked.exchange(true, ordering: .acquiringAndReleasing) { signal.post() }
    }

    /// Asks the thread to write what it can one last time (even while the disk fails) and end.
    func stop() {
        stopping.store(true, ordering: .releasing)
        signal.post()
    }

    var isStopped: Bool { stopped.load(ordering: .acquiring) }

    private func run(_ queue: DeliveryQueue) {
        var loop = Loop(writer: self, queue: queue)
        while true {
            let finishing = stopping.load(ordering: .acquiring)
            poked.store(false, ordering: .releasing)
            loop.cycle(finishing: finishing)
            if finishing { break }
            signal.wait(for: loop.pause())
        }
        stopped.store(true, ordering: .releasing)
    }

    /// The thread's own state: no lock, only the thread touches it.
    private struct Loop {
        let writer: OutboxWriter
        let queue: DeliveryQueue
        let clock = ContinuousClock()
        var health: StorageHealth
        var storeRetry: Backoff
        var removalRetry: Backoff
        /// The last commit failed: the next waits for `nextStore`.
        var storeFailing = false
        var nextStore: ContinuousClock.Instant
        var nextRemovalRetry: ContinuousClock.Instant?

        init(writer: OutboxWriter, queue: DeliveryQueue) {
            self.writer = writer
            self.queue = queue
            health = StorageHealth(settle: Int64(writer.options.settle * 1000))
            storeRetry = writer.options.retry
            removalRetry = writer.options.retry
            nextStore = clock.now
        }

        /// Writes what is waiting, unless the disk failed and its retry is not due; ends a settled episode.
        mutating func cycle(finishing: Bool) {
            let now = clock.now
            if !storeFailing || now >= nextStore || finishing {
                let retryRemovals = nextRemovalRetry.map { now >= $0 || finishing } ?? false
                if let batch = queue.state.withLock({
                    $0.ledger.takeBatch(retryRemovals: retryRemovals, finishing: finishing)
                }) {
                    if storeFailing && !batch.removals.isEmpty {
                        let (removals, rest) = batch.split
                        attempt(removals)
                        if !rest.isEmpty { attempt(rest) }
                    } else {
                        attempt(batch)
                    }
                }
            }
            if health.settlesAt != nil {
                let failing = queue.state.withLock { $0.ledger.failingRemovals }
                if let event = health.succeeded(items: 0, removalsFailing: failing > 0, at: DeliveryQueue.nowMillis()) {
                    recovered(event)
                }
            }
        }

        /// How long to sleep unless poked: until the next retry or the end of a settling episode, at most 1 s
        /// (so that a step of the wall clock, which the semaphore's deadline follows, never holds it long).
        func pause() -> Duration {
            let now = clock.now
            var wake = now + .seconds(1)
            if storeFailing { wake = min(wake, nextStore) }
            if let nextRemovalRetry { wake = min(wake, nextRemovalRetry) }
            if let settlesAt = health.settlesAt {
                wake = min(wake, now + .milliseconds(max(0, settlesAt - DeliveryQueue.nowMillis())))
            }
            return max(.zero, wake - now)
        }

        private mutating func attempt(_ part: OutboxBatch) {
            // The reservation too: at boot the first batch may hold nothing else, and it is no removal.
            let storing =
                !part.items.isEmpty || !part.quarantines.isEmpty || part.sequence != nil || part.reservation != nil
            let millis = DeliveryQueue.nowMillis()
            do {
                let result = try writer.outbox.write(part)
                let failing = queue.state.withLock { state -> Int in
                    if storing { state.ledger.storageFailing = false }
                    state.ledger.committed(part, failedRemovals: result.failedRemovals)
                    return state.ledger.failingRemovals
                }
                let reports = part.items.filter { $0.item.kind == .event }
                let byReport =
                    !reports.isEmpty
                    && reports.allSatisfy {
                        OutboxItem.label(kind: .event, topic: $0.item.topic) == OutboxOverflowReport.kind
                    }
                queue.noteDrops(writer.outbox.takeDropped(), byReport: byReport, millis: millis)
                if storing {
                    storeFailing = false
                    storeRetry.reset()
                }
                if !part.removals.isEmpty {
                    if !result.failedRemovals.isEmpty {
                        nextRemovalRetry = clock.now + .seconds(removalRetry.next())
                        failed(.remove, reason: result.removalError ?? "removal failed", millis: millis)
                    } else if failing == 0 {
                        nextRemovalRetry = nil
                        removalRetry.reset()
                    }
                }
                if let event = health.succeeded(items: part.items.count, removalsFailing: failing > 0, at: millis) {
                    recovered(event)
                }
            } catch {
                let evicted = queue.state.withLock { state -> OutboxDrops in
                    state.ledger.failed(part)
                    return state.ledger.takeEvicted()
                }
                queue.noteDrops(evicted, byReport: false, millis: millis)
                storeFailing = true
                nextStore = clock.now + .seconds(storeRetry.next())
                failed(storing ? .store : .remove, reason: "\(error)", millis: millis)
            }
            // Items kept in memory, or let go to the outbox: the publishing side may have more to do.
            queue.wakePublisher()
            queue.resumeStored()
        }

        private mutating func failed(_ operation: StorageHealth.Operation, reason: String, millis: Int64) {
            let held = queue.state.withLock { $0.ledger.held.items }
            guard let event = health.failed(operation, reason: reason, heldInMemory: held, at: millis) else {
                writer.logger.debug("outbox: write failed again", metadata: ["error": "\(reason)"])
                return
            }
            writer.logger.error(
                operation == .store
                    ? "storage fault: the outbox cannot write; new events are kept in memory and delivered from there"
                    : "storage fault: delivered items cannot be removed from the outbox; they will not be sent again",
                metadata: ["error": "\(reason)", "held_in_memory": "\(held)"])
            queue.raiseReport(event, millis: millis)
        }

        private func recovered(_ event: UplinkEvent) {
            writer.logger.notice(
                "storage recovered: the outbox writes again",
                metadata: .init(uniqueKeysWithValues: event.details.map { ($0.key, .string($0.value)) }))
            queue.raiseReport(event, millis: nil)
        }
    }
}
