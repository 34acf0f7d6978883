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

    @Test func pendingIsByPriorityThenAge() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        for (name, priority) in [("a", 10), ("b", 50), ("c", 100), ("d", 50), ("e", 10)] {
            try outbox.enqueue { _ in [Self.item(name, priority: priority)] }
        }
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["c", "b", "d", "a", "e"])
        #expect(try outbox.pending(limit: 2).map(\.item.topic) == ["c", "b"])
    }

    @Test func sequenceNumbersAndItemsSurviveReopening() throws {
        let folder = Self.directory()
        do {
            let outbox = try SQLiteOutbox(directory: folder)
            #expect(try outbox.enqueue { _ in [Self.item("a", priority: 1)] } == 1)
            #expect(
                try outbox.enqueue { _ in
                    [Self.item("b", priority: 1), Self.item("b-snap", priority: 1, kind: .snapshot)]
                } == 2)
            #expect(try outbox.nextBoot() == 1)
            let first = try #require(try outbox.pending(limit: 1).first)
            try outbox.remove(first.id)
        }
        let reopened = try SQLiteOutbox(directory: folder)
        #expect(try reopened.count() == 2)
        #expect(try reopened.enqueue { _ in [] } == 3)
        #expect(try reopened.nextBoot() == 2)
        #expect(try reopened.pending(limit: 5).map(\.item.topic) == ["b", "b-snap"])
    }

    @Test func fullOutboxDropsSnapshotsThenOldEventsButNeverEmergencies() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 4, maximumBytes: 1 << 20)
        try outbox.enqueue { _ in [Self.item("e1", priority: Priority.emergency)] }
        try outbox.enqueue { _ in
            [Self.item("m1", priority: Priority.alert), Self.item("s1", priority: Priority.alert, kind: .snapshot)]
        }
        try outbox.enqueue { _ in [Self.item("r1", priority: Priority.routine)] }
        try outbox.enqueue { _ in [Self.item("m2", priority: Priority.alert)] }  // 5 items: the routine one goes
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["e1", "m1", "s1", "m2"])
        try outbox.enqueue { _ in [Self.item("m3", priority: Priority.alert)] }  // then the alert snapshot
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["e1", "m1", "m2", "m3"])
        for index in 0..<6 { try outbox.enqueue { _ in [Self.item("e\(index + 2)", priority: Priority.emergency)] } }
        let left = try outbox.pending(limit: 20).map(\.item.topic)
        #expect(left == ["e1", "e2", "e3", "e4", "e5", "e6", "e7"], "emergencies are kept even past the bound")
        #expect(outbox.dropped == 5)
    }

    @Test func byteBoundIsEnforced() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 1000, maximumBytes: 25_000)
        for index in 0..<5 {
            try outbox.enqueue { _ in
                [Self.item("snap\(index)", priority: Priority.alert, kind: .snapshot, size: 10_000)]
            }
        }
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["snap3", "snap4"])
    }

    /// Items that are not events (a snapshot the centre asked for) use no sequence number: `seq` counts events.
    @Test func storedItemsUseNoSequenceNumber() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory())
        let first = try outbox.enqueue { _ in [Self.item("event/a", priority: Priority.alert)] }
        try outbox.store([Self.item("snapshot/x", priority: Priority.routine, kind: .snapshot)])
        try outbox.store([Self.item("snapshot/y", priority: Priority.routine, kind: .snapshot)])
        let second = try outbox.enqueue { _ in [Self.item("event/b", priority: Priority.alert)] }
        #expect([first, second] == [1, 2])
        #expect(try outbox.lastSequence() == 2)
        #expect(try outbox.pending(limit: 10).map(\.item.topic) == ["event/a", "event/b", "snapshot/x", "snapshot/y"])
    }

    /// What the bounds pushed out is told once, by kind (the event kind from its topic, or `snapshot`).
    @Test func droppedItemsAreCountedByKind() throws {
        let outbox = try SQLiteOutbox(directory: Self.directory(), maximumItems: 3, maximumBytes: 1 << 20)
        #expect(outbox.takeDropped().isEmpty)
        try outbox.enqueue { _ in [Self.item("vigie/v1/u/event/call", priority: Priority.emergency)] }
        try outbox.enqueue { _ in [Self.item("vigie/v1/u/event/motion_end", priority: Priority.routine)] }
        try outbox.enqueue { _ in
            [
                Self.item("vigie/v1/u/event/motion", priority: Priority.alert),
                Self.item("vigie/v1/u/snapshot/1", priority: Priority.alert, kind: .snapshot),
            ]
        }
        try outbox.store([Self.item("vigie/v1/u/snapshot/2", priority: Priority.routine, kind: .snapshot)])
        try outbox.enqueue { _ in [Self.item("vigie/v1/u/event/motion", priority: Priority.alert)] }
        let dropped = outbox.takeDropped()
        #expect(dropped.counts == ["motion_end": 1, "snapshot": 2], "\(dropped)")
        #expect(dropped.total == 3 && outbox.dropped == 3)
        #expect(outbox.takeDropped().isEmpty, "told once")
        for _ in 0..<3 {
            try outbox.enqueue { _ in [Self.item("vigie/v1/u/event/call", priority: Priority.emergency)] }
        }
        #expect(outbox.takeDropped().counts == ["motion": 2])
        #expect(try outbox.pending(limit: 10).allSatisfy { $0.item.priority == Priority.emergency })
    }

    @Test func unwritableFolderIsAClearError() {
        #expect(throws: SQLiteError.self) { try SQLiteOutbox(directory: "/nonexistent/folder") }
    }
}
