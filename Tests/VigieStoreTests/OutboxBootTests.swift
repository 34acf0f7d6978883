import Foundation
import Synchronization
import Testing
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

/// Opening the outbox at boot when its file or folder is bad: a damaged file set aside, an outbox that opens
/// itself once its folder can be written, numbering that never collides.
@Suite("Outbox at boot")
struct OutboxBootTests {
    static func item(_ topic: String) -> OutboxItem {
        OutboxItem(topic: topic, payload: Array(topic.utf8), priority: Priority.alert, kind: .event, createdAt: 0)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    static func contents(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1 << 16)
        let count = Glibc.read(fd, &bytes, bytes.count)
        return count < 0 ? nil : Array(bytes[..<count])
    }

    @Test func garbageIsSetAsideAndANewOutboxMade() throws {
        let folder = SQLiteOutboxTests.directory()
        let garbage = (0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Self.write(garbage, to: folder + "/outbox.sqlite")
        #expect(throws: SQLiteError.self) { try SQLiteOutbox(directory: folder) }
        let millis: Int64 = 1_741_944_605_123  // 2025-03-14T09:30:05Z
        let (outbox, recovery) = try SQLiteOutbox.openRecovering(directory: folder, millis: millis)
        let aside = folder + "/outbox.sqlite.corrupt-20250314T093005.123Z"
        #expect(recovery?.setAside == aside)
        #expect(recovery?.reason.contains("26") == true, "SQLITE_NOTADB: \(String(describing: recovery))")
        #expect(Self.contents(aside) == garbage, "the damaged file is kept as it was")
        #expect(try outbox.counters() == OutboxCounters(sequence: 0, item: 0))
        try outbox.write(OutboxBatch(items: [StoredItem(id: 1, item: Self.item("a"))], sequence: 1))
        #expect(try outbox.count() == 1)
        let event = try #require(recovery?.event)
        #expect(event.kind == StorageHealth.recoveredKind && event.priority == Priority.fault)
        #expect(event.details.contains { $0.key == "set_aside" && $0.value == aside })
    }

    /// A card that damages the outbox at every boot: set-aside names never collide (the same second twice), and
    /// only the newest two are kept.
    @Test func setAsideOutboxesAreBounded() throws {
        let folder = SQLiteOutboxTests.directory()
        var kept: [String] = []
        for _ in 0..<4 {
            try Self.write([UInt8](repeating: 0xAB, count: 4096), to: folder + "/outbox.sqlite")
            let (_, recovery) = try SQLiteOutbox.openRecovering(directory: folder, millis: 1_741_944_605_123)
            kept.append(try #require(recovery?.setAside))
        }
        #expect(Set(kept).count == 4, "\(kept)")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".corrupt-") }
            .sorted()
        #expect(left.map { folder + "/" + $0 } == kept.suffix(2).sorted(), "\(left)")
    }

    /// A page overwritten in the middle of a real outbox: `quick_check` finds it at open.
    @Test func damagedPageIsFoundAtOpen() throws {
        let folder = SQLiteOutboxTests.directory()
        do {
            let outbox = try SQLiteOutbox(directory: folder)
            let items = (1...200).map { StoredItem(id: Int64($0), item: Self.item(String(repeating: "x", count: 300))) }
            try outbox.write(OutboxBatch(items: items, sequence: 200))
        }
        let path = folder + "/outbox.sqlite"
        let fd = open(path, O_WRONLY)
        try #require(fd >= 0)
        let junk = [UInt8](repeating: 0xEE, count: 4096)
        #expect(junk.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 4096 * 3) } == 4096)
        close(fd)
        let (outbox, recovery) = try SQLiteOutbox.openRecovering(directory: folder, millis: 0)
        #expect(recovery != nil, "the damage went unnoticed")
        #expect(try outbox.count() == 0)
    }

    @Test func healthyOutboxIsKept() throws {
        let folder = SQLiteOutboxTests.directory()
        do {
            let outbox = try SQLiteOutbox(directory: folder)
            try outbox.write(OutboxBatch(items: [StoredItem(id: 1, item: Self.item("a"))], sequence: 1))
        }
        let (outbox, recovery) = try SQLiteOutbox.openRecovering(directory: folder, millis: 0)
        #expect(recovery == nil)
        #expect(try outbox.count() == 1)
    }

    @Test func inspectReadsTheNumberingWithoutWriting() throws {
        let folder = SQLiteOutboxTests.directory()
        #expect(try SQLiteOutbox.inspect(directory: folder) == nil, "no file: nothing to read")
        do {
            let outbox = try SQLiteOutbox(directory: folder)
            _ = try outbox.nextBoot()
            _ = try outbox.nextBoot()
            try outbox.write(
                OutboxBatch(items: [StoredItem(id: 7, item: Self.item("a"))], sequence: 4, reservation: 300))
        }
        let inspected = try #require(try SQLiteOutbox.inspect(directory: folder))
        #expect(inspected.counters == OutboxCounters(sequence: 4, item: 7, reservation: 300))
        #expect(inspected.boot == 2)
    }

    /// The state folder cannot be made (its parent is a file): writes fail and nothing is on disk; once the
    /// folder can be made, the next write opens the outbox and commits.
    @Test func reopeningOutboxOpensOnceTheFolderCanBeMade() throws {
        let base = SQLiteOutboxTests.directory()
        try Self.write([0], to: base + "/blocked")
        let folder = base + "/blocked/state"
        let reopening = ReopeningOutbox(
            directory: folder, reason: SQLiteError(code: 14, message: "cannot open", context: "boot"))
        #expect(reopening.inspected == nil)
        #expect(try reopening.counters() == OutboxCounters(sequence: 0, item: 0))
        #expect(try reopening.nextBoot() == 0)
        #expect(try reopening.count() == 0)
        #expect(throws: (any Error).self) { try reopening.pending(limit: 10) }
        let batch = OutboxBatch(items: [StoredItem(id: 1, item: Self.item("a"))], sequence: 1, reservation: 257)
        #expect(throws: (any Error).self) { try reopening.write(batch) }
        #expect(!reopening.isOpen && reopening.fault != nil)

        #expect(unlink(base + "/blocked") == 0)
        #expect(mkdir(base + "/blocked", 0o700) == 0)
        let opened = Mutex<[ReopeningOutbox.Opening]>([])
        reopening.onOpen { opening in opened.withLock { $0.append(opening) } }
        try reopening.write(batch)
        #expect(reopening.isOpen && reopening.fault == nil)
        #expect(opened.withLock { $0.map(\.offset) } == [0] && opened.withLock { $0.first?.recovery } == nil)
        #expect(try reopening.pending(limit: 10).map(\.id) == [1])
        let stored = try SQLiteOutbox(directory: folder)
        #expect(try stored.counters() == OutboxCounters(sequence: 1, item: 1, reservation: 257))
    }

    /// Nothing could be read at boot (numbering from zero) and the outbox that opens later holds five items of a
    /// previous run: the new ids are shifted past them on disk, nothing collides, and the old ones are still
    /// offered, before the new ones.
    @Test func reopeningOutboxStepsOverItemsItCouldNotSeeAtBoot() throws {
        let folder = SQLiteOutboxTests.directory() + "/later"
        let reopening = ReopeningOutbox(
            directory: folder, reason: SQLiteError(code: 14, message: "cannot open", context: "boot"))
        #expect(try reopening.counters() == OutboxCounters(sequence: 0, item: 0))
        do {
            #expect(mkdir(folder, 0o700) == 0)
            let previous = try SQLiteOutbox(directory: folder)
            let items = (1...5).map { StoredItem(id: Int64($0), item: Self.item("old-\($0)")) }
            try previous.write(OutboxBatch(items: items, sequence: 5))
        }
        try reopening.write(
            OutboxBatch(
                items: [StoredItem(id: 1, item: Self.item("new-1")), StoredItem(id: 2, item: Self.item("new-2"))],
                sequence: 2))
        let pending = try reopening.pending(limit: 10)
        #expect(pending.map(\.item.topic) == ["old-1", "old-2", "old-3", "old-4", "old-5", "new-1", "new-2"])
        let ids = pending.map(\.id)
        #expect(Set(ids).count == 7 && ids == ids.sorted())
        #expect(Array(ids.suffix(2)) == [1, 2], "the uplink's own ids, as it gave them")
        // A removal and a quarantine of a new item, and the removal of an old one, by the uplink's ids.
        try reopening.write(OutboxBatch(quarantines: [2: "test"], removals: [1, ids[0]]))
        #expect(try reopening.pending(limit: 10).map(\.item.topic) == ["old-2", "old-3", "old-4", "old-5"])
        #expect(try reopening.quarantinedCount() == 1)
        let stored = try SQLiteOutbox(directory: folder)
        #expect(try stored.counters().item == 7)
        #expect(try stored.counters().sequence == 5, "the sequence counter never moves back")
    }
}
