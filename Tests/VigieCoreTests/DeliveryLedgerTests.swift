import Testing
import VigieCore

/// The uplink's memory of its items, without threads, disk or broker: numbering, both flags (commit and
/// PUBACK), storage faults, quarantine.
@Suite("Delivery ledger")
struct DeliveryLedgerTests {
    static func item(_ name: String, priority: Int = Priority.alert, kind: OutboxItem.Kind = .event, size: Int = 10)
        -> OutboxItem
    {
        OutboxItem(
            topic: "vigie/v1/u/\(kind == .event ? "event" : "snapshot")/\(name)",
            payload: [UInt8](repeating: 1, count: size), priority: priority, kind: kind, createdAt: 0)
    }

    static func names(_ items: [StoredItem]) -> [String] {
        items.map { String($0.item.topic.split(separator: "/").last!) }
    }

    /// Adds one event of that name; returns its item id.
    @discardableResult
    static func raise(
        _ ledger: inout DeliveryLedger, _ name: String, priority: Int = Priority.alert, snapshot: Int? = nil
    ) -> Int64 {
        ledger.add(event: true) { _ in
            [item(name, priority: priority)]
                + (snapshot.map { [item(name, priority: priority, kind: .snapshot, size: $0)] } ?? [])
        }.ids[0]
    }

    /// Plans and chooses as the uplink does, with no outbox read (everything is in memory).
    static func publish(_ ledger: inout DeliveryLedger, limit: Int = 64, stored: [StoredItem]? = []) -> [StoredItem] {
        let plan = ledger.plan(limit: limit)
        let chosen = ledger.choose(plan, stored: plan.read == nil ? nil : stored, limit: limit)
        for (index, next) in chosen.enumerated() {
            ledger.published(next.id, message: Int32(next.id * 100 + Int64(index)))
        }
        return chosen
    }

    /// A ledger as the uplink has it once running: its first batch (the sequence reservation) committed.
    static func started(counters: OutboxCounters, limits: DeliveryLedger.Limits = .init()) -> DeliveryLedger {
        var ledger = DeliveryLedger(counters: counters, limits: limits)
        if let batch = ledger.takeBatch(retryRemovals: false) { ledger.committed(batch) }
        return ledger
    }

    static func message(_ ledger: DeliveryLedger, _ id: Int64) -> Int32 { Int32(id * 100) }

    @Test func numberingContinuesTheOutboxAndCountsEventsOnly() {
        var ledger = DeliveryLedger(counters: OutboxCounters(sequence: 41, item: 7))
        var sequences: [Int64?] = []
        let first = ledger.add(event: true) { sequence in
            sequences.append(sequence)
            return [Self.item("a"), Self.item("a", kind: .snapshot)]
        }
        let snapshot = ledger.add(event: false) { sequence in
            sequences.append(sequence)
            return [Self.item("asked", kind: .snapshot)]
        }
        let second = ledger.add(event: true) { _ in [Self.item("b")] }
        #expect(first.sequence == 42 && first.ids == [8, 9])
        #expect(snapshot.sequence == nil && snapshot.ids == [10])
        #expect(second.sequence == 43 && second.ids == [11])
        #expect(sequences == [42, nil])
        let batch = ledger.takeBatch(retryRemovals: false)
        #expect(batch?.items.map(\.id) == [8, 9, 10, 11], "committed in the order raised")
        #expect(batch?.sequence == 43)
    }

    /// Published at once, before its commit; it leaves only when both are done, in either order.
    @Test func itemLeavesWhenBothCommitAndAcknowledgementAreDone() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "acked-first")
        Self.raise(&ledger, "committed-first")
        let plan = ledger.plan(limit: 64)
        #expect(Self.names(plan.fromMemory) == ["acked-first", "committed-first"])
        let chosen = ledger.choose(plan, stored: nil, limit: 64)
        ledger.published(1, message: 11)
        ledger.published(2, message: 12)
        #expect(Self.publish(&ledger).isEmpty, "nothing is offered twice")
        #expect(chosen.count == 2)

        guard case .delivered(1) = ledger.acknowledged(11, reason: 0) else {
            Issue.record("not delivered")
            return
        }
        let first = ledger.takeBatch(retryRemovals: false)!
        #expect(first.items.map(\.id) == [1, 2] && first.removals.isEmpty, "no removal before its commit")
        ledger.committed(first)
        let second = ledger.takeBatch(retryRemovals: false)!
        #expect(second.removals == [1], "acknowledged, then committed")
        ledger.committed(second)
        _ = ledger.acknowledged(12, reason: 0)
        let last = ledger.takeBatch(retryRemovals: false)!
        #expect(last.removals == [2], "committed, then acknowledged")
        ledger.committed(last)
        #expect(ledger.isWritten && ledger.undelivered == 0 && ledger.deliveredInOutbox == 0)
    }

    /// A committed item waiting for the link stays in memory (a burst or a short outage needs no read of the
    /// outbox), until the limits let it go: then the next plan reads it from the outbox.
    @Test func committedItemsAreLetGoOverTheLimitsAndReadBack() {
        var ledger = Self.started(
            counters: OutboxCounters(sequence: 0, item: 0), limits: DeliveryLedger.Limits(items: 2, bytes: 1 << 20))
        #expect(ledger.plan(limit: 64).read?.limit == 64, "at the start the outbox may hold anything")
        #expect(Self.publish(&ledger, stored: []).isEmpty)
        #expect(ledger.plan(limit: 64).read == nil, "an empty read clears the backlog")

        Self.raise(&ledger, "a")
        Self.raise(&ledger, "b")
        let batch = ledger.takeBatch(retryRemovals: false)!
        ledger.committed(batch)
        #expect(ledger.plan(limit: 64).read == nil)
        #expect(Self.names(ledger.plan(limit: 64).fromMemory) == ["a", "b"])
        Self.raise(&ledger, "c")  // over the limit: the newest committed item goes to the outbox only
        #expect(ledger.takeEvicted().isEmpty, "nothing lost")
        let plan = ledger.plan(limit: 64)
        #expect(Self.names(plan.fromMemory) == ["a", "c"] && plan.read != nil)
        let chosen = ledger.choose(plan, stored: [batch.items[1]], limit: 64)
        #expect(Self.names(chosen) == ["a", "b", "c"], "in order, across memory and the outbox")
    }

    /// A read begun before an item was let go must not clear the backlog: that item would never be offered.
    @Test func staleReadKeepsTheBacklog() {
        var ledger = Self.started(
            counters: OutboxCounters(sequence: 0, item: 0), limits: DeliveryLedger.Limits(items: 1, bytes: 1 << 20))
        Self.raise(&ledger, "a")
        ledger.committed(ledger.takeBatch(retryRemovals: false)!)
        let plan = ledger.plan(limit: 64)  // the read starts
        Self.raise(&ledger, "b")  // meanwhile "a" is let go to make room
        #expect(ledger.choose(plan, stored: [], limit: 64).isEmpty)  // the read did not see it
        let next = ledger.plan(limit: 64)
        #expect(next.read != nil, "the outbox must be read again")
        #expect(Self.names(next.fromMemory) == ["b"])
    }

    /// Highest priority first, oldest first within a priority, across memory and the outbox.
    @Test func memoryAndOutboxAreMergedInDeliveryOrder() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 2, item: 2))
        let stored = [
            StoredItem(id: 1, item: Self.item("old-alert")),
            StoredItem(id: 2, item: Self.item("old-routine", priority: Priority.routine)),
        ]
        Self.raise(&ledger, "new-routine", priority: Priority.routine)
        Self.raise(&ledger, "call", priority: Priority.emergency)
        Self.raise(&ledger, "new-alert")
        #expect(
            Self.names(Self.publish(&ledger, limit: 4, stored: stored)) == [
                "call", "old-alert", "new-alert", "old-routine",
            ])
        #expect(Self.names(Self.publish(&ledger, stored: stored)) == ["new-routine"])
    }

    /// The plan picks the first items in delivery order however many wait.
    @Test func planPicksTheFirstInDeliveryOrder() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        let priorities = [10, 50, 100, 40, 50, 10, 100, 50, 40, 10, 50, 100]
        for (index, priority) in priorities.enumerated() { Self.raise(&ledger, "e\(index)", priority: priority) }
        let order = priorities.enumerated().sorted { a, b in
            a.element != b.element ? a.element > b.element : a.offset < b.offset
        }
        .map { "e\($0.offset)" }
        for limit in [1, 3, 5, 12, 64] {
            #expect(Self.names(ledger.plan(limit: limit).fromMemory) == Array(order.prefix(limit)))
        }
        #expect(ledger.plan(limit: 0).fromMemory.isEmpty)
    }

    /// The broker acknowledged it: never offered again in this process, even while removing it from the outbox
    /// fails; the removal is retried only when the writer says so.
    @Test func deliveredItemIsNeverOfferedAgainWhileItsRemovalFails() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "a")
        ledger.committed(ledger.takeBatch(retryRemovals: false)!)
        let stored = [StoredItem(id: 1, item: Self.item("a"))]
        #expect(Self.names(Self.publish(&ledger, stored: stored)) == ["a"])
        _ = ledger.acknowledged(100, reason: 0)
        let removal = ledger.takeBatch(retryRemovals: false)!
        #expect(removal.removals == [1])
        ledger.committed(removal, failedRemovals: [1])
        #expect(ledger.failingRemovals == 1 && ledger.deliveredInOutbox == 1)
        for _ in 0..<3 {
            ledger.linkReset()  // even after reconnections, the outbox still holding it
            #expect(ledger.plan(limit: 64).read?.excluding == [1], "the outbox is read without it")
            #expect(Self.publish(&ledger, stored: stored).isEmpty)
        }
        #expect(ledger.takeBatch(retryRemovals: false) == nil, "not retried on every batch")
        let retry = ledger.takeBatch(retryRemovals: true)!
        #expect(retry.removals == [1])
        ledger.committed(retry)
        #expect(ledger.failingRemovals == 0 && ledger.deliveredInOutbox == 0)
    }

    /// While the disk fails, items stay in memory and are delivered from there; one delivered meanwhile is not
    /// written afterwards; the rest is written in order once the disk works.
    @Test func failedCommitKeepsItemsInMemory() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "a")
        Self.raise(&ledger, "b")
        let batch = ledger.takeBatch(retryRemovals: false)!
        ledger.failed(batch)
        #expect(ledger.storageFailing)
        #expect(ledger.held.items == 2)
        #expect(Self.names(Self.publish(&ledger, limit: 1)) == ["a"])
        _ = ledger.acknowledged(100, reason: 0)  // "a" delivered while the disk fails
        Self.raise(&ledger, "c")
        let retry = ledger.takeBatch(retryRemovals: false)!
        #expect(retry.items.map(\.id) == [2, 3], "b and c, in order; a was delivered")
        #expect(retry.sequence == 3, "the counter still covers a")
        ledger.storageFailing = false
        ledger.committed(retry)
        #expect(ledger.isWritten && ledger.held.items == 0)
    }

    /// Over its bounds, memory drops the lowest priority first, a snapshot before an event, the oldest first;
    /// never an emergency, never what is in flight.
    @Test func memoryBoundsNeverDropEmergencies() {
        var ledger = Self.started(
            counters: OutboxCounters(sequence: 0, item: 0), limits: DeliveryLedger.Limits(items: 4, bytes: 1 << 20))
        ledger.failed(ledger.takeBatch(retryRemovals: false) ?? OutboxBatch())  // the disk fails
        Self.raise(&ledger, "flight", priority: Priority.routine)
        #expect(Self.names(Self.publish(&ledger)) == ["flight"])
        Self.raise(&ledger, "call1", priority: Priority.emergency)
        Self.raise(&ledger, "routine", priority: Priority.routine)
        Self.raise(&ledger, "motion", snapshot: 100)  // 5 items: the routine event goes
        #expect(ledger.takeEvicted().counts == ["routine": 1])
        Self.raise(&ledger, "call2", priority: Priority.emergency)  // then the alert's snapshot
        #expect(ledger.takeEvicted().counts == ["snapshot": 1])
        for index in 3...6 { Self.raise(&ledger, "call\(index)", priority: Priority.emergency) }
        #expect(ledger.takeEvicted().counts == ["motion": 1])
        let left = Self.names(ledger.plan(limit: 64).fromMemory)
        #expect(left == ["call1", "call2", "call3", "call4", "call5", "call6"], "past the bound, every emergency")
        #expect(ledger.inFlight == 1, "the routine item in flight is kept")
    }

    /// The reports of the unit's own losses are kept past the bounds too: dropped, they would leave a gap
    /// unexplained.
    @Test func memoryBoundsKeepTheReportsOfLosses() {
        var ledger = Self.started(
            counters: OutboxCounters(sequence: 0, item: 0), limits: DeliveryLedger.Limits(items: 2, bytes: 1 << 20))
        ledger.failed(OutboxBatch())
        Self.raise(&ledger, "storage_fault", priority: Priority.fault)
        Self.raise(&ledger, "motion")
        Self.raise(&ledger, "motion")
        Self.raise(&ledger, "outbox_overflow", priority: Priority.fault)
        #expect(ledger.takeEvicted().counts == ["motion": 2])
        #expect(Self.names(ledger.plan(limit: 64).fromMemory) == ["storage_fault", "outbox_overflow"])
    }

    /// A refused item is quarantined: not offered again, written to the outbox as such, and the items behind it
    /// go on.
    @Test func refusedItemIsQuarantinedAndTheRestGoesOn() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "refused")
        Self.raise(&ledger, "next")
        #expect(Self.names(Self.publish(&ledger, limit: 1)) == ["refused"])
        let answer = ledger.acknowledged(100, reason: 0x87) { "refused: \($0)" }
        #expect(answer == .refused(1))
        #expect(ledger.quarantineReason(1) == "refused: 135")
        #expect(Self.names(Self.publish(&ledger)) == ["next"])
        let batch = ledger.takeBatch(retryRemovals: false)!
        #expect(batch.quarantines == [1: "refused: 135"])
        ledger.committed(batch)
        ledger.linkReset()
        #expect(Self.publish(&ledger, stored: [StoredItem(id: 2, item: Self.item("next"))]).map(\.id) == [2])
        #expect(ledger.quarantinedCount == 1)
    }

    /// Quarantined while its commit was in flight: the quarantine is written with the next batch.
    @Test func quarantineDuringACommitIsWrittenAfterIt() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "big", snapshot: 10)
        let batch = ledger.takeBatch(retryRemovals: false)!
        ledger.quarantine(2, reason: "too large")
        ledger.committed(batch)
        #expect(ledger.takeBatch(retryRemovals: false)?.quarantines == [2: "too large"])
    }

    /// A connection that ends forgets what was in flight: offered again, from memory or from the outbox.
    @Test func linkResetOffersInFlightItemsAgain() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        Self.raise(&ledger, "a")
        Self.raise(&ledger, "b")
        _ = Self.publish(&ledger)
        let batch = ledger.takeBatch(retryRemovals: false)!
        ledger.committed(batch, failedRemovals: [])
        ledger.linkReset()
        #expect(ledger.inFlight == 0)
        #expect(Self.names(Self.publish(&ledger, stored: batch.items)) == ["a", "b"])
    }

    /// Numbers are reserved on disk before events go out uncommitted: an event beyond the reservation waits for
    /// the commit that moves it, a crash skips what was reserved, a clean stop releases it.
    @Test func sequenceNumbersAreReservedBeforeTheyGoOut() {
        var ledger = DeliveryLedger(counters: OutboxCounters(sequence: 5, item: 5))
        Self.raise(&ledger, "first")
        #expect(Self.publish(&ledger).isEmpty, "number 6 is not reserved yet")
        var batch = ledger.takeBatch(retryRemovals: false)
        #expect(batch?.reservation == 6 + DeliveryLedger.reservationBlock)
        #expect(batch?.sequence == 6)
        ledger.committed(batch!)
        #expect(Self.names(Self.publish(&ledger)) == ["first"])

        // Over half the block used: the next batch moves the reservation; until then what lies beyond waits.
        let block = DeliveryLedger.reservationBlock
        for index in 0...(block / 2) { Self.raise(&ledger, "e\(index)") }  // numbers 7...135
        batch = ledger.takeBatch(retryRemovals: false)
        #expect(batch?.reservation == 135 + block)
        ledger.committed(batch!)
        for index in 0..<(block * 2) { Self.raise(&ledger, "late\(index)") }  // numbers 136...647
        let published = Self.publish(&ledger, limit: 10_000)
        #expect(published.count == Int(135 + block - 6), "numbers 7...391, the reservation, and not beyond")

        // While the disk fails, delivering comes first.
        ledger.failed(ledger.takeBatch(retryRemovals: false)!)
        #expect(Self.publish(&ledger, limit: 10_000).count == Int(647 - 6) - published.count)

        // A clean stop releases the reservation.
        ledger.storageFailing = false
        #expect(ledger.takeBatch(retryRemovals: false, finishing: true)?.reservation == 0)
    }

    @Test func afterACrashNumberingContinuesPastTheReservation() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 10, item: 12, reservation: 266))
        let next = ledger.add(event: true) { _ in [Self.item("after")] }
        #expect(next.sequence == 267, "numbers 11...266 may have gone out before the crash")
    }

    /// What `raiseStored` waits for: a commit, an acknowledgement, or a failed commit (kept in memory).
    @Test func anItemIsStoredOnceCommittedAcknowledgedOrHeldAfterAFailedWrite() {
        var ledger = Self.started(counters: OutboxCounters(sequence: 0, item: 0))
        let committed = Self.raise(&ledger, "committed")
        #expect(!ledger.isStored(committed))
        ledger.committed(ledger.takeBatch(retryRemovals: false)!)
        #expect(ledger.isStored(committed))
        _ = Self.publish(&ledger)

        let acknowledged = Self.raise(&ledger, "acknowledged")
        _ = Self.publish(&ledger)
        #expect(!ledger.isStored(acknowledged))
        _ = ledger.acknowledged(Self.message(ledger, acknowledged), reason: 0)
        #expect(ledger.isStored(acknowledged), "delivered before its commit")

        let held = Self.raise(&ledger, "held")
        let batch = ledger.takeBatch(retryRemovals: false)!
        #expect(!ledger.isStored(held), "being written")
        ledger.failed(batch)
        #expect(ledger.isStored(held), "the disk fails: kept in memory, a storage_fault says so")
    }
}
