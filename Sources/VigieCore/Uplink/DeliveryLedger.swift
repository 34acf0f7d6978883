/// What the uplink keeps in memory about the items on their way to the centre. Pure: no I/O, no thread, no
/// clock. The uplink keeps it behind a mutex; `raise` adds to it, the publishing side asks it what to publish
/// and tells it what the broker answered, and a writer thread commits the batches it hands out.
///
/// - Numbering: event sequence numbers and item ids continue from the outbox's counters, in memory, in the
///   order items are added, so an event can be published before its commit. The writer commits in that order
///   and moves the durable sequence counter with each batch. Sequence numbers are also reserved on disk ahead
///   of use (`reservationBlock`, renewed in an ordinary batch when half is used), so that a crash never gives a
///   number again that an event published before its commit already had: after a crash, numbering continues
///   past the reservation (the centre sees a gap across the boot, never the same number twice); a clean stop
///   releases it (no gap).
/// - Both flags: an item leaves the outbox only when its commit and its acknowledgement (PUBACK) are both done,
///   in either order.
/// - Memory: an item stays here until it is delivered, committed or not, so that a burst or a short outage is
///   published without reading the outbox back. Over `limits`, committed items are let go first (the outbox
///   holds them: `backlog` tells the publishing side to read it); only then are items that are nowhere else
///   dropped (see `add`).
/// - Storage faults: while the disk fails, items stay here and are delivered from here. An item delivered while
///   the disk fails is not written afterwards.
/// - An item the broker acknowledged is never offered again in this process, even when removing it from the
///   outbox fails (the removal is retried). A quarantined item is never offered again either.
public struct DeliveryLedger: Sendable {
    /// The most the ledger keeps in memory (items and payload bytes).
    public struct Limits: Sendable, Hashable {
        public var items: Int
        public var bytes: Int

        public init(items: Int = 5_000, bytes: Int = 32 << 20) {
            precondition(items > 0 && bytes > 0)
            self.items = items
            self.bytes = bytes
        }
    }

    /// What the broker's answer to a message meant.
    public enum Acknowledgement: Sendable, Hashable {
        /// The item was delivered.
        case delivered(Int64)
        /// The broker refused it (reason code 0x80 or more): it is quarantined.
        case refused(Int64)
        /// Not an item of the outbox (a status or a reply), or one this connection no longer tracks.
        case other
    }

    /// What to publish next: items from memory, and whether to read the outbox as well.
    public struct PublishPlan: Sendable {
        public let fromMemory: [StoredItem]
        /// If set, read up to `limit` items from the outbox, skipping `excluding` (what the ledger tracks).
        public let read: (limit: Int, excluding: Set<Int64>)?
        let epoch: Int
    }

    struct Entry: Sendable {
        var item: OutboxItem
        var committed = false
        /// In a batch the writer is committing.
        var writing = false
        /// A commit of it failed: the disk fails, it is kept here and delivered from here.
        var writeFailed = false
        /// The event's sequence number (its snapshot's too).
        var sequence: Int64?
        /// The message id while published and not yet acknowledged.
        var message: Int32?
        var acknowledged = false
        var quarantine: String?

        /// Only in memory: neither committed nor delivered.
        var isHeld: Bool { !committed && !acknowledged }
        var isPublishable: Bool { message == nil && !acknowledged && quarantine == nil }
    }

    public let limits: Limits
    /// The sequence number of the last event added.
    public private(set) var lastSequence: Int64
    private var lastItem: Int64
    /// The sequence number the outbox's counter has reached.
    private var durableSequence: Int64
    /// The sequence numbers reserved on disk: an event numbered above it waits for the next commit before it is
    /// published (unless the disk fails: delivering comes first).
    private var reservation: Int64
    /// Numbers reserved at a time, ahead of the last one given; renewed when half of them are used.
    public static let reservationBlock: Int64 = 256
    private var entries: [Int64: Entry] = [:]
    /// Message id → item id, for every item in flight (from memory or from the outbox).
    private var inflight: [Int32: Int64] = [:]
    /// Delivered items still in the outbox: their removal waits for the next batch, is being written, or failed
    /// (then it waits until the writer retries).
    private var toRemove: Set<Int64> = []
    private var removing: Set<Int64> = []
    private var removalFailed: Set<Int64> = []
    /// Quarantined in this process, with why: never offered again.
    private var quarantined: [Int64: String] = [:]
    /// Quarantines of items already in the outbox, still to be written, and being written.
    private var toQuarantine: [Int64: String] = [:]
    private var quarantining: [Int64: String] = [:]
    /// Whether the outbox may hold items to publish that the ledger does not track. `epoch` counts the times
    /// it became so, so that a read begun before the last of them does not clear it.
    public private(set) var backlog = true
    private var epoch = 0
    /// Set by the writer while the disk fails: a delivered item is then forgotten at once instead of committed.
    public var storageFailing = false
    /// Items only in memory: neither committed nor delivered.
    public private(set) var held = (items: 0, bytes: 0)
    /// Everything kept in memory, what `limits` bounds.
    private var kept = (items: 0, bytes: 0)
    private var evicted = OutboxDrops()

    /// Continues the numbering of an outbox (`Outbox.counters()`).
    public init(counters: OutboxCounters, limits: Limits = Limits()) {
        self.limits = limits
        lastSequence = counters.sequence
        durableSequence = counters.sequence
        reservation = counters.reservation
        // After a crash, the numbers reserved may have gone out with events whose commit was lost: never again.
        lastSequence = max(counters.sequence, counters.reservation)
        lastItem = counters.item
    }

    // MARK: - Adding

    /// Adds what `build` makes of the next event sequence number (`nil` when `event` is false: a snapshot the
    /// centre asked for takes no number). Returns the number and the ids given to the items.
    ///
    /// Over `limits`, committed items waiting to be published are let go first (the lowest priority, the newest
    /// first: they are read back from the outbox in turn). Then items only in memory are dropped: the lowest
    /// priority first, a snapshot before an event, the oldest first; never an emergency or a report of the
    /// unit's own losses (`OutboxItem.isKeptPastBounds`), nor an item in flight or being committed (the ledger
    /// then grows past its bounds). What is dropped is counted for `takeEvicted()`.
    @discardableResult
    public mutating func add(event: Bool, _ build: (Int64?) -> [OutboxItem]) -> (sequence: Int64?, ids: [Int64]) {
        var sequence: Int64?
        if event {
            lastSequence += 1
            sequence = lastSequence
        }
        var ids: [Int64] = []
        for item in build(sequence) {
            lastItem += 1
            ids.append(lastItem)
            replace(lastItem, with: Entry(item: item, sequence: sequence))
        }
        evictOverLimits()
        return (sequence, ids)
    }

    /// What the memory bounds dropped since the last call (then forgets it), for `outbox_overflow`.
    public mutating func takeEvicted() -> OutboxDrops {
        defer { evicted = OutboxDrops() }
        return evicted
    }

    private var isOverLimits: Bool { kept.items > limits.items || kept.bytes > limits.bytes }

    private mutating func evictOverLimits() {
        guard isOverLimits else { return }
        let waiting = entries.filter { _, entry in
            entry.committed && !entry.acknowledged && entry.message == nil
        }.sorted { a, b in
            a.value.item.priority != b.value.item.priority
                ? a.value.item.priority < b.value.item.priority : a.key > b.key
        }
        for (id, _) in waiting {
            guard isOverLimits else { return }
            replace(id, with: nil)  // the outbox holds it
            markBacklog()
        }
        let victims = entries.filter { _, entry in
            entry.isHeld && !entry.writing && entry.message == nil && !entry.item.isKeptPastBounds
        }.sorted { a, b in
            let (x, y) = (a.value.item, b.value.item)
            if x.priority != y.priority { return x.priority < y.priority }
            if x.kind != y.kind { return x.kind == .snapshot }
            return a.key < b.key
        }
        for (id, entry) in victims {
            guard isOverLimits else { return }
            replace(id, with: nil)
            evicted.add(OutboxItem.label(kind: entry.item.kind, topic: entry.item.topic))
        }
    }

    // MARK: - Publishing

    /// What to publish next, at most `limit` items: from memory, and from the outbox when it may hold items the
    /// ledger does not track. Read those (if `read` is set), then call `choose`.
    public func plan(limit: Int) -> PublishPlan {
        // The first `limit` in delivery order, without sorting everything: called on every acknowledgement, with
        // as many items waiting as a burst or an outage left (and `limit` often 1).
        var fromMemory: [StoredItem] = []
        for (id, entry) in entries where mayPublish(entry) && limit > 0 {
            let next = StoredItem(id: id, item: entry.item)
            guard fromMemory.count < limit || Self.deliveryOrder(next, fromMemory[fromMemory.count - 1]) else {
                continue
            }
            let place = fromMemory.firstIndex { Self.deliveryOrder(next, $0) } ?? fromMemory.count
            fromMemory.insert(next, at: place)
            if fromMemory.count > limit { fromMemory.removeLast() }
        }
        var read: (limit: Int, excluding: Set<Int64>)?
        if backlog {
            var tracked = Set(entries.keys).union(inflight.values).union(toRemove).union(removing)
            tracked.formUnion(removalFailed)
            tracked.formUnion(quarantined.keys)
            read = (limit, tracked)
        }
        return PublishPlan(fromMemory: fromMemory, read: read, epoch: epoch)
    }

    /// The items to publish now, in order: the plan's and those read from the outbox (`nil` if the read
    /// failed), less what was published, delivered or quarantined meanwhile. Clears `backlog` when the read found
    /// every item the outbox holds.
    public mutating func choose(_ plan: PublishPlan, stored: [StoredItem]?, limit: Int) -> [StoredItem] {
        let untracked = (stored ?? []).filter { isUntracked($0.id) }
        var candidates = plan.fromMemory.filter { entries[$0.id].map(mayPublish) == true }
        candidates += untracked
        candidates.sort(by: Self.deliveryOrder)
        let chosen = Array(candidates.prefix(limit))
        if let read = plan.read, let stored, stored.count < read.limit, plan.epoch == epoch {
            let chosenIDs = Set(chosen.map(\.id))
            if untracked.allSatisfy({ chosenIDs.contains($0.id) }) { backlog = false }
        }
        return chosen
    }

    /// The item went out as message `message`.
    public mutating func published(_ id: Int64, message: Int32) {
        inflight[message] = id
        mutate(id) { $0.message = message }
    }

    /// The item was chosen but could not go out (the link dropped, the client was short of memory): it is
    /// offered again by a later plan.
    public mutating func notPublished(_ id: Int64) {
        if entries[id] == nil { markBacklog() }
    }

    /// Highest priority first, oldest first within a priority.
    static func deliveryOrder(_ a: StoredItem, _ b: StoredItem) -> Bool {
        a.item.priority != b.item.priority ? a.item.priority > b.item.priority : a.id < b.id
    }

    /// Publishable, and numbered within the durable reservation (or the disk fails).
    private func mayPublish(_ entry: Entry) -> Bool {
        entry.isPublishable && (storageFailing || (entry.sequence ?? 0) <= max(durableSequence, reservation))
    }

    /// The reservation must move ahead: less than half a block is left.
    private var reservationDue: Bool { lastSequence + Self.reservationBlock / 2 > reservation }

    private func isUntracked(_ id: Int64) -> Bool {
        entries[id] == nil && !inflight.values.contains(id) && !isDelivered(id) && quarantined[id] == nil
    }

    private func isDelivered(_ id: Int64) -> Bool {
        toRemove.contains(id) || removing.contains(id) || removalFailed.contains(id)
    }

    // MARK: - The broker's answers

    /// The broker answered message `message` with `reason` (below 0x80: accepted). A refused item is
    /// quarantined, `describe` saying why.
    public mutating func acknowledged(
        _ message: Int32, reason: Int32,
        describe: (Int32) -> String = { "refused by the broker (reason code 0x\(String($0, radix: 16)))" }
    ) -> Acknowledgement {
        guard let id = inflight.removeValue(forKey: message) else { return .other }
        guard reason < 0x80 else {
            quarantine(id, reason: describe(reason))
            return .refused(id)
        }
        if let entry = entries[id] {
            var entry = entry
            entry.message = nil
            entry.acknowledged = true
            if entry.committed {
                replace(id, with: nil)
                toRemove.insert(id)
            } else if storageFailing && !entry.writing {
                replace(id, with: nil)  // delivered: nothing left to keep it for
            } else {
                replace(id, with: entry)  // removed once its commit is done
            }
        } else {
            toRemove.insert(id)
        }
        return .delivered(id)
    }

    /// Sets the item aside for good: kept (committed) in the outbox, never offered again.
    public mutating func quarantine(_ id: Int64, reason: String) {
        guard quarantined[id] == nil else { return }
        quarantined[id] = reason
        if let message = entries[id]?.message { inflight[message] = nil }
        if let entry = entries[id] {
            if entry.committed {
                replace(id, with: nil)
                toQuarantine[id] = reason
            } else {
                mutate(id) {
                    $0.quarantine = reason
                    $0.message = nil
                }
            }
        } else {
            toQuarantine[id] = reason
        }
    }

    /// The connection ended or began: what was in flight is offered again (from memory if it is still there,
    /// else from the outbox).
    public mutating func linkReset() {
        for id in inflight.values { mutate(id) { $0.message = nil } }
        inflight.removeAll()
        markBacklog()
    }

    private mutating func markBacklog() {
        backlog = true
        epoch += 1
    }

    // MARK: - Writing

    /// The next batch for the writer: every item not yet committed, in order (an item delivered while the disk
    /// fails is forgotten instead), the quarantines and removals waiting (failed removals only when
    /// `retryRemovals`), the sequence counter and reservation (released when `finishing`: the last batch of a
    /// clean stop). Nil when there is nothing to write.
    public mutating func takeBatch(retryRemovals: Bool, finishing: Bool = false) -> OutboxBatch? {
        var batch = OutboxBatch()
        for (id, entry) in entries.sorted(by: { $0.key < $1.key }) where !entry.committed && !entry.writing {
            if entry.acknowledged && storageFailing {
                replace(id, with: nil)
                continue
            }
            mutate(id) { $0.writing = true }
            batch.items.append(StoredItem(id: id, item: entry.item))
            if let reason = entry.quarantine { batch.quarantines[id] = reason }
        }
        for (id, reason) in toQuarantine {
            batch.quarantines[id] = reason
            quarantining[id] = reason
        }
        toQuarantine.removeAll()
        var removals = toRemove
        if retryRemovals {
            removals.formUnion(removalFailed)
            removalFailed.removeAll()
        }
        toRemove.removeAll()
        removing.formUnion(removals)
        batch.removals = removals.sorted()
        if lastSequence > durableSequence { batch.sequence = lastSequence }
        if finishing {
            if reservation != 0 { batch.reservation = 0 }  // a clean stop: the numbers given are all committed
        } else if reservationDue {
            batch.reservation = lastSequence + Self.reservationBlock
        }
        return batch.isEmpty ? nil : batch
    }

    /// The batch is committed; `failedRemovals` are items still in the outbox (their removal is retried).
    public mutating func committed(_ batch: OutboxBatch, failedRemovals: Set<Int64> = []) {
        for stored in batch.items {
            guard var entry = entries[stored.id] else { continue }
            entry.committed = true
            entry.writing = false
            if let reason = entry.quarantine, batch.quarantines[stored.id] == nil {
                toQuarantine[stored.id] = reason  // quarantined while its commit was in flight
            }
            if entry.acknowledged {
                replace(stored.id, with: nil)
                toRemove.insert(stored.id)
            } else if entry.quarantine != nil {
                replace(stored.id, with: nil)  // kept in the outbox, set aside
            } else {
                replace(stored.id, with: entry)  // kept until delivered, or let go over the limits
            }
        }
        for id in batch.quarantines.keys { quarantining[id] = nil }
        for id in batch.removals {
            removing.remove(id)
            if failedRemovals.contains(id) { removalFailed.insert(id) }
        }
        if let sequence = batch.sequence { durableSequence = max(durableSequence, sequence) }
        if let reserved = batch.reservation { reservation = reserved }
    }

    /// Nothing of the batch was committed: its items stay in memory, and the rest waits for the next batch.
    public mutating func failed(_ batch: OutboxBatch) {
        storageFailing = true
        for stored in batch.items {
            guard var entry = entries[stored.id] else { continue }
            entry.writing = false
            entry.writeFailed = true
            if entry.acknowledged && storageFailing {
                replace(stored.id, with: nil)
            } else {
                replace(stored.id, with: entry)
            }
        }
        for (id, reason) in batch.quarantines where entries[id] == nil && quarantining[id] != nil {
            toQuarantine[id] = reason
            quarantining[id] = nil
        }
        for id in batch.removals where removing.remove(id) != nil { toRemove.insert(id) }
        evictOverLimits()
    }

    // MARK: - State

    /// Nothing waits to be written: every item is committed or delivered, every removal and quarantine done or
    /// failed, the sequence counter durable.
    public var isWritten: Bool {
        entries.values.allSatisfy { $0.committed } && toRemove.isEmpty && removing.isEmpty && toQuarantine.isEmpty
            && quarantining.isEmpty && durableSequence == lastSequence && !reservationDue
    }

    /// Whether item `id` is as safe as the unit can make it: committed to the outbox, acknowledged by the broker,
    /// or kept in memory after its commit failed (the disk fails: a `storage_fault` says so); also when the ledger
    /// no longer holds it (delivered, or dropped over the limits and reported). `UplinkService.raiseStored` waits
    /// for this.
    public func isStored(_ id: Int64) -> Bool {
        guard let entry = entries[id] else { return true }
        return entry.committed || entry.acknowledged || entry.writeFailed
    }

    /// Items raised and not delivered that the ledger holds (in memory or in flight).
    public var undelivered: Int { entries.values.count { !$0.acknowledged && $0.quarantine == nil } }

    /// Messages in flight.
    public var inFlight: Int { inflight.count }

    /// Delivered items whose removal from the outbox failed and waits for a retry.
    public var failingRemovals: Int { removalFailed.count }

    /// Delivered items still in the outbox (removal waiting, in progress or failed).
    public var deliveredInOutbox: Int { toRemove.count + removing.count + removalFailed.count }

    /// Items quarantined in this process.
    public var quarantinedCount: Int { quarantined.count }

    /// Why the item was quarantined in this process, if it was.
    public func quarantineReason(_ id: Int64) -> String? { quarantined[id] }

    // MARK: - Bookkeeping

    /// Replaces an entry, keeping `held` and `kept` up to date.
    private mutating func replace(_ id: Int64, with new: Entry?) {
        if let old = entries[id] {
            kept.items -= 1
            kept.bytes -= old.item.payload.count
            if old.isHeld {
                held.items -= 1
                held.bytes -= old.item.payload.count
            }
        }
        if let new {
            kept.items += 1
            kept.bytes += new.item.payload.count
            if new.isHeld {
                held.items += 1
                held.bytes += new.item.payload.count
            }
        }
        entries[id] = new
    }

    private mutating func mutate(_ id: Int64, _ change: (inout Entry) -> Void) {
        guard var entry = entries[id] else { return }
        change(&entry)
        replace(id, with: entry)
    }
}
