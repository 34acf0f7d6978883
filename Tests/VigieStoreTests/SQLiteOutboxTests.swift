import Testing
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

@Suite("SQLite outbox")
struct SQLiteOutboxTests {
    static func directory() -> String {
        var template = Array("/tmp/vigie-outbox-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func item(_ name: String, priority: Int, kind: OutboxItem.Kind = .event, size: Int = 10) -> OutboxItem {
        OutboxItem(
            topic: name, payload: [UInt8](repeating: 1, count: size), priority: priority, kind: kind, createdAt: 0)
    }

    /// Numbers and commits items as the uplink does: ids and sequence numbers continue the outbox's counters.
    struct Numbering {
        let outbox: SQLiteOutbox
        var counters: OutboxCounters

        init(_ outbox: SQLiteOutbox) throws {
            self.outbox = outbox
            counters = try outbox.counters()
        }

        /// An event (and what goes with it) in one commit; returns its sequence number.
        @discardableResult
        mutating func event(_ items: OutboxItem...) throws -> Int64 {
            counters.sequence += 1
            try outbox.write(OutboxBatch(items: number(items), sequence: counters.sequence))
            return counters.sequence
        }

        /// Items without a sequence number (a snapshot the centre asked for).
        mutating func store(_ items: OutboxItem...) throws { try outbox.write(OutboxBatch(items: number(items))) }

        mutating func number(_ items: [OutboxItem]) -> [StoredItem] {
            items.map { item in
                counters.item += 1
                return StoredItem(id: counters.item, item: item)
            }
        }
    }

    @Test func pendingIsByPriorityThenAge() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        var numbering = try Numbering(outbox)
        for (name, priority) in [("a", 10), ("b", 50), ("c", 100), ("d", 50), ("e", 10)] {
            try numbering.event(Self.item(name, priority: priority))
        }
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["c", "b", "d", "a", "e"])
        #expect(try outbox.pending(limit: 2).map(\.item.topic) == ["c", "b"])
    }

    /// What the uplink already tracks is skipped, and the limit counts what is returned.
    @Test func pendingSkipsWhatIsExcluded() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        var numbering = try Numbering(outbox)
        for name in ["a", "b", "c", "d"] { try numbering.event(Self.item(name, priority: Priority.alert)) }
        try numbering.event(Self.item("call", priority: Priority.emergency))
        #expect(try outbox.pending(limit: 2, excluding: [5, 1]).map(\.item.topic) == ["b", "c"])
        #expect(try outbox.pending(limit: 10, excluding: [2]).map(\.item.topic) == ["call", "a", "c", "d"])
    }

    /// Reports of what the unit lost are kept past the bounds, like emergencies: dropped, they would leave a gap
    /// in `seq` unexplained.
    @Test func fullOutboxKeepsItsReports() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 2, maximumBytes: 1 << 20)
        var numbering = try Numbering(outbox)
        try numbering.event(Self.item("vigie/v1/u/event/motion", priority: Priority.alert))
        try numbering.event(Self.item("vigie/v1/u/event/motion", priority: Priority.alert))
        try numbering.event(Self.item("vigie/v1/u/event/outbox_overflow", priority: Priority.fault))
        try numbering.event(Self.item("vigie/v1/u/event/storage_fault", priority: Priority.fault))
        let left = try outbox.pending(limit: 10).map(\.item.topic)
        #expect(left == ["vigie/v1/u/event/outbox_overflow", "vigie/v1/u/event/storage_fault"], "\(left)")
    }

    @Test func numbersAndItemsSurviveReopening() throws {
        let folder = Self.directory()
        do {
            let outbox = try SQLiteOutbox(directory: folder)
            var numbering = try Numbering(outbox)
            #expect(try numbering.event(Self.item("a", priority: 1)) == 1)
            #expect(
                try numbering.event(Self.item("b", priority: 1), Self.item("b-snap", priority: 1, kind: .snapshot)) == 2
            )
            #expect(try outbox.nextBoot() == 1)
            let first = try #require(try outbox.pending(limit: 1).first)
            try outbox.write(OutboxBatch(removals: [first.id]))
        }
        let reopened = try SQLiteOutbox(directory: folder)
        #expect(try reopened.count() == 2)
        #expect(try reopened.counters() == OutboxCounters(sequence: 2, item: 3))
        #expect(try reopened.nextBoot() == 2)
        #expect(try reopened.pending(limit: 5).map(\.item.topic) == ["b", "b-snap"])
    }

    /// Ids are never given twice, even once the items that had them are gone (a removal of an old id must never
    /// remove a new item).
    @Test func itemIDsAreNeverReused() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        var numbering = try Numbering(outbox)
        try numbering.event(Self.item("a", priority: 1))
        try numbering.event(Self.item("b", priority: 1))
        try outbox.write(OutboxBatch(removals: try outbox.pending(limit: 10).map(\.id)))
        #expect(try outbox.count() == 0)
        #expect(try outbox.counters().item == 2)
    }

    /// The counter only moves up: a batch numbered before another that committed first does not lower it.
    @Test func sequenceCounterNeverGoesDown() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        try outbox.write(OutboxBatch(sequence: 7))
        try outbox.write(OutboxBatch(sequence: 5))
        #expect(try outbox.lastSequence() == 7)
    }

    /// The reservation survives a reopening (a crash); 0 releases it (a clean stop).
    @Test func sequenceReservationIsKeptUntilReleased() throws {
        let directory = Self.directory()
        do {
            let outbox = try SQLiteOutbox(directory: directory)
            #expect(try outbox.counters().reservation == 0)
            try outbox.write(OutboxBatch(sequence: 3, reservation: 259))
        }
        let reopened = try SQLiteOutbox(directory: directory)
        #expect(try reopened.counters() == OutboxCounters(sequence: 3, item: 0, reservation: 259))
        try reopened.write(OutboxBatch(sequence: 4, reservation: 0))
        #expect(try reopened.counters() == OutboxCounters(sequence: 4, item: 0, reservation: 0))
    }

    @Test func fullOutboxDropsSnapshotsThenOldEventsButNeverEmergencies() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 4, maximumBytes: 1 << 20)
        var numbering = try Numbering(outbox)
        try numbering.event(Self.item("e1", priority: Priority.emergency))
        try numbering.event(
            Self.item("m1", priority: Priority.alert), Self.item("s1", priority: Priority.alert, kind: .snapshot))
        try numbering.event(Self.item("r1", priority: Priority.routine))
        try numbering.event(Self.item("m2", priority: Priority.alert))  // 5 items: the routine one goes
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["e1", "m1", "s1", "m2"])
        try numbering.event(Self.item("m3", priority: Priority.alert))  // then the alert snapshot
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["e1", "m1", "m2", "m3"])
        for index in 0..<6 { try numbering.event(Self.item("e\(index + 2)", priority: Priority.emergency)) }
        let left = try outbox.pending(limit: 20).map(\.item.topic)
        #expect(left == ["e1", "e2", "e3", "e4", "e5", "e6", "e7"], "emergencies are kept even past the bound")
        #expect(outbox.dropped == 5)
    }

    @Test func byteBoundIsEnforced() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 1000, maximumBytes: 25_000)
        var numbering = try Numbering(outbox)
        for index in 0..<5 {
            try numbering.event(Self.item("snap\(index)", priority: Priority.alert, kind: .snapshot, size: 10_000))
        }
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["snap3", "snap4"])
    }

    /// Items that are not events (a snapshot the centre asked for) use no sequence number: `seq` counts events.
    @Test func storedItemsUseNoSequenceNumber() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        var numbering = try Numbering(outbox)
        let first = try numbering.event(Self.item("event/a", priority: Priority.alert))
        try numbering.store(Self.item("snapshot/x", priority: Priority.routine, kind: .snapshot))
        try numbering.store(Self.item("snapshot/y", priority: Priority.routine, kind: .snapshot))
        let second = try numbering.event(Self.item("event/b", priority: Priority.alert))
        #expect([first, second] == [1, 2])
        #expect(try outbox.lastSequence() == 2)
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["event/a", "event/b", "snapshot/x", "snapshot/y"])
    }

    /// What the bounds pushed out is told once, by kind (the event kind from its topic, or `snapshot`).
    @Test func droppedItemsAreCountedByKind() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 3, maximumBytes: 1 << 20)
        var numbering = try Numbering(outbox)
        #expect(outbox.takeDropped().isEmpty)
        try numbering.event(Self.item("vigie/v1/u/event/call", priority: Priority.emergency))
        try numbering.event(Self.item("vigie/v1/u/event/motion_end", priority: Priority.routine))
        try numbering.event(
            Self.item("vigie/v1/u/event/motion", priority: Priority.alert),
            Self.item("vigie/v1/u/snapshot/1", priority: Priority.alert, kind: .snapshot))
        try numbering.store(Self.item("vigie/v1/u/snapshot/2", priority: Priority.routine, kind: .snapshot))
        try numbering.event(Self.item("vigie/v1/u/event/motion", priority: Priority.alert))
        let dropped = outbox.takeDropped()
        #expect(dropped.counts == ["motion_end": 1, "snapshot": 2], "\(dropped)")
        #expect(dropped.total == 3 && outbox.dropped == 3)
        #expect(outbox.takeDropped().isEmpty, "told once")
        for _ in 0..<3 { try numbering.event(Self.item("vigie/v1/u/event/call", priority: Priority.emergency)) }
        #expect(outbox.takeDropped().counts == ["motion": 2])
        #expect(try outbox.pending(limit: 10).allSatisfy { $0.item.priority == Priority.emergency })
    }

    /// A quarantined item stays in the outbox, with why, but is never pending again (not after a reopening
    /// either); a full outbox drops quarantined items before anything that can still be delivered.
    @Test func quarantinedItemsStayButAreNotPending() throws {
        let folder = Self.directory()
        do {
            let outbox = try SQLiteOutbox(directory: folder, maximumItems: 3, maximumBytes: 1 << 20)
            var numbering = try Numbering(outbox)
            try numbering.event(Self.item("a", priority: Priority.alert))
            try numbering.event(Self.item("b", priority: Priority.alert))
            try outbox.write(OutboxBatch(quarantines: [1: "too large"]))
            #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["b"])
            #expect(try outbox.count() == 1 && outbox.quarantinedCount() == 1)
            // Quarantined as it is added: never pending at all.
            let snapshot = StoredItem(id: 3, item: Self.item("c", priority: Priority.routine, kind: .snapshot))
            try outbox.write(OutboxBatch(items: [snapshot], quarantines: [3: "invalid topic"]))
            #expect(
                try outbox.quarantined(limit: 10).map { "\($0.stored.item.topic): \($0.reason)" } == [
                    "a: too large", "c: invalid topic",
                ])
        }
        let outbox = try SQLiteOutbox(directory: folder, maximumItems: 3, maximumBytes: 1 << 20)
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["b"])
        var numbering = try Numbering(outbox)
        try numbering.event(Self.item("d", priority: Priority.alert))  // 4 items: a quarantined one goes first
        #expect(try outbox.quarantined(limit: 10).map(\.stored.item.topic) == ["a"], "the lowest priority")
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["b", "d"])
    }

    /// A removal that fails (here a trigger refuses it, as a broken disk or a corrupt index might) leaves its
    /// item and is reported; the other removals and the rest of the batch are committed.
    @Test func failedRemovalLeavesItsItemAndTheRestIsCommitted() throws {
        let folder = Self.directory()
        let outbox = try SQLiteOutbox(directory: folder)
        var numbering = try Numbering(outbox)
        for name in ["a", "b", "c"] { try numbering.event(Self.item(name, priority: Priority.alert)) }
        try SQLiteShell.execute(
            folder + "/outbox.sqlite",
            "CREATE TRIGGER keep_b BEFORE DELETE ON outbox WHEN old.topic = 'b' BEGIN SELECT RAISE(ABORT, 'kept'); END")
        let result = try outbox.write(
            OutboxBatch(
                items: [StoredItem(id: 4, item: Self.item("d", priority: Priority.alert))], removals: [1, 2, 3],
                sequence: 4))
        #expect(result.failedRemovals == [2])
        #expect(result.removalError?.contains("kept") == true, "\(result.removalError ?? "-")")
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["b", "d"])
        #expect(try outbox.lastSequence() == 4)
    }

    /// A commit that fails applies nothing of its batch, removals included.
    @Test func failedCommitAppliesNothing() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        var numbering = try Numbering(outbox)
        try numbering.event(Self.item("a", priority: Priority.alert))
        let duplicate = StoredItem(id: 2, item: Self.item("again", priority: Priority.alert))
        #expect(throws: SQLiteError.self) {
            try outbox.write(
                OutboxBatch(
                    items: [StoredItem(id: 2, item: Self.item("b", priority: 1)), duplicate], removals: [1],
                    sequence: 9))
        }
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["a"])
        #expect(try outbox.lastSequence() == 1)
    }

    /// An outbox made before quarantine existed is opened, kept, and gains it.
    @Test func outboxFromBeforeQuarantineIsUpgraded() throws {
        let folder = Self.directory()
        try SQLiteShell.execute(
            folder + "/outbox.sqlite",
            """
            CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, priority INTEGER NOT NULL,
                kind INTEGER NOT NULL, topic TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL);
            CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            INSERT INTO counters VALUES ('sequence', 41), ('boot', 3);
            INSERT INTO outbox (priority, kind, topic, payload, created_ms) VALUES (50, 0, 'old', x'7b7d', 5);
            """)
        let outbox = try SQLiteOutbox(directory: folder)
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["old"])
        #expect(try outbox.counters() == OutboxCounters(sequence: 41, item: 1))
        #expect(try outbox.nextBoot() == 4)
        try outbox.write(OutboxBatch(quarantines: [1: "refused"]))
        #expect(try outbox.quarantinedCount() == 1)
    }

    @Test func unwritableFolderIsAClearError() {
        #expect(throws: SQLiteError.self) { try SQLiteOutbox(directory: "/nonexistent/folder") }
    }
}
