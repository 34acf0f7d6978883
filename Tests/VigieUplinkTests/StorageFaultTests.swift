import Foundation
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// The outbox's disk fails under a running uplink (real SQLite on a filesystem the test mounts, a real broker):
/// nothing raised is lost or sent in a loop, emergencies are kept, and the fault is told once per episode.
@Suite("Storage faults", .serialized)
struct StorageFaultTests {
    static let deviceID = "unit-disk"
    static let prefix = "vigie/v1/\(deviceID)/"

    /// An uplink in this process with its outbox in `state`, a broker, and the centre's subscriber.
    final class Rig: Sendable {
        let broker: Broker
        let centre: TestClient
        let uplink: UplinkService
        let outbox: SQLiteOutbox
        let recorder = LogRecorder()
        private let running: Task<Void, Never>

        init(
            state: String, broker: Broker? = nil, memory: DeliveryLedger.Limits = DeliveryLedger.Limits()
        ) async throws {
            let broker = try broker ?? Broker()
            try broker.start()
            self.broker = broker
            // Persistent: it misses nothing the unit publishes while it reconnects after a broker restart.
            centre = try TestClient.subscriber(
                broker, topic: StorageFaultTests.prefix + "#", id: "centre-\(UUID().uuidString.prefix(6))",
                persistent: true)
            var settings = UplinkSettings()
            settings.brokers = [broker.url]
            settings.telemetryInterval = 3600
            var storage = UplinkService.StorageOptions()
            storage.memory = memory
            storage.retry = Backoff(initial: 0.1, maximum: 0.4, jitter: 0.1)
            // Short enough for a test, long enough that a full disk taking a small commit now and then between
            // failures stays one episode.
            storage.settle = 2
            storage.reportInterval = 1
            outbox = try SQLiteOutbox(directory: state)
            uplink = try UplinkService(
                identity: .init(
                    deviceID: StorageFaultTests.deviceID, role: "pole", board: "test", firmware: "test",
                    capabilities: []),
                settings: settings, outbox: outbox, logger: recorder.logger, storage: storage)
            let uplink = self.uplink
            running = Task { await uplink.run() }
            try #require(await centre.ready(probe: StorageFaultTests.prefix + "probe"))
            try #require(await waitFor(timeout: 15) { await uplink.isConnected })
        }

        /// Raises `count` test events (every `emergencyEvery`th an emergency), with a snapshot of `snapshot`
        /// bytes on the others if set. Returns their ids, and the longest a `raise` took.
        func raise(
            _ count: Int, emergencyEvery: Int = 5, snapshot: Int? = nil
        ) -> (ids: [String], longest: Duration) {
            var ids: [String] = []
            var longest = Duration.zero
            for index in 1...count {
                let emergency = index % emergencyEvery == 0
                let start = ContinuousClock.now
                ids.append(
                    uplink.raise(
                        UplinkEvent(
                            kind: "test", priority: emergency ? Priority.emergency : Priority.alert,
                            details: [("n", "\(index)")],
                            snapshot: emergency ? nil : snapshot.map { [UInt8](repeating: 0xAB, count: $0) })))
                longest = max(longest, ContinuousClock.now - start)
            }
            return (ids, longest)
        }

        /// Events received by the centre, in order of arrival (duplicates included).
        func events() async -> [JSONValue] {
            await centre.inbox.messages.filter { $0.topic.hasPrefix(StorageFaultTests.prefix + "event/") }
                .compactMap(\.json)
        }

        func arrived(_ ids: [String]) async -> Bool {
            let seen = Set(await events().compactMap { $0["id"]?.stringValue })
            return ids.allSatisfy(seen.contains)
        }

        func kinds(_ kind: String) async -> [JSONValue] { await events().filter { $0["kind"]?.stringValue == kind } }

        /// How many times each of `ids` reached the centre.
        func copies(_ ids: [String]) async -> [Int] {
            let received = await events().compactMap { $0["id"]?.stringValue }
            return ids.map { id in received.count { $0 == id } }
        }

        func stop() async {
            await uplink.shutdown(drain: 1)
            running.cancel()
            centre.stop()
            broker.stop()
        }
    }

    /// Every sequence number from 1 to the last is accounted for: delivered, or dropped and reported in an
    /// `outbox_overflow` (so a gap the centre sees always has its explanation).
    static func unexplainedGaps(_ events: [JSONValue], last: Int64) -> (missing: Int, reported: Int) {
        let delivered = Set(events.compactMap { $0["seq"]?.intValue })
        let missing = Set(1...Int(last)).subtracting(delivered)
        let reported = events.filter { $0["kind"] == .string("outbox_overflow") }
            .compactMap { $0["details"]?["dropped_test"]?.stringValue.flatMap { Int($0) } }.reduce(0, +)
        return (missing.count, reported)
    }

    static func checkNothingLostUnreported(_ events: [JSONValue], last: Int64) {
        let (missing, reported) = unexplainedGaps(events, last: last)
        #expect(missing == reported, "\(missing) events missing, \(reported) reported dropped")
    }

    /// A removal refused after every PUBACK (a trigger on the outbox, as a broken index would): each event goes
    /// out once, not in a loop; the fault is told once; the removal is retried and, once it works, the outbox
    /// empties and the recovery is told.
    @Test func failedRemovalIsNotRepublishedAndIsRetried() async throws {
        let folder = try temporaryFolder("removal").path
        let rig = try await Rig(state: folder)
        try SQLiteShell.execute(
            folder + "/outbox.sqlite",
            "CREATE TRIGGER refuse BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'test: removal refused'); END")
        let first = rig.raise(30).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(first) })
        #expect(await waitFor(timeout: 20) { await !rig.kinds("storage_fault").isEmpty })
        // More events: each acknowledgement makes the uplink look at the outbox, which still holds the first ones.
        let second = rig.raise(30).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(second) })
        let copies = await rig.copies(first + second)
        #expect(copies.allSatisfy { $0 == 1 }, "\(copies)")
        #expect(try rig.outbox.count() >= 60, "the delivered events are still in the outbox")
        #expect(await waitFor(timeout: 10) { rig.uplink.outboxDepth() == 0 }, "but nothing waits to be delivered")

        try SQLiteShell.execute(folder + "/outbox.sqlite", "DROP TRIGGER refuse")
        #expect(await waitFor(timeout: 20) { await !rig.kinds("storage_recovered").isEmpty })
        #expect(await waitFor(timeout: 20) { (try? rig.outbox.count()) == 0 }, "the removals were not retried")
        let faults = await rig.kinds("storage_fault")
        #expect(faults.count == 1, "one report per episode")
        #expect(faults.first?["details"]?["operation"] == .string("remove"))
        #expect(faults.first?["details"]?["reason"]?.stringValue?.contains("removal refused") == true)
        #expect(await rig.kinds("storage_recovered").count == 1)
        await rig.stop()
        Self.checkNothingLostUnreported(await rig.events(), last: try rig.outbox.lastSequence())
    }

    /// A full disk (a 512 KiB tmpfs, filled): events are delivered from memory and each sent once; with the
    /// broker gone too, memory keeps every emergency and drops (and reports) the least urgent; when space comes
    /// back what memory held is written to the outbox in order, the recovery is told, and everything is delivered.
    @Test func fullDiskKeepsEventsInMemory() async throws {
        guard let disk = ScratchDisk.mount("a 512 KiB tmpfs", { try .tmpfs(kilobytes: 512) }) else { return }
        let rig = try await Rig(state: disk.path, memory: DeliveryLedger.Limits(items: 40, bytes: 1 << 20))
        let before = rig.raise(5).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(before) })

        try disk.fill()
        let whileFull = rig.raise(20, snapshot: 16 << 10)
        #expect(await waitFor(timeout: 20) { await !rig.kinds("storage_fault").isEmpty }, "no storage_fault")
        #expect(await waitFor(timeout: 20) { await rig.arrived(whileFull.ids) })
        let copies = await rig.copies(whileFull.ids)
        #expect(copies.allSatisfy { $0 == 1 }, "\(copies)")
        #expect(whileFull.longest < .milliseconds(100), "raise waited \(whileFull.longest)")
        let fault = await rig.kinds("storage_fault").first
        #expect(fault?["details"]?["operation"] == .string("store"))
        #expect(fault?["details"]?["reason"]?.stringValue?.contains("full") == true, "\(String(describing: fault))")

        // The broker goes too: 60 events (20 emergencies) with 40 items of room in memory.
        rig.broker.stop()
        #expect(await waitFor(timeout: 10) { await !rig.uplink.isConnected })
        let offline = rig.raise(60, emergencyEvery: 3, snapshot: 8 << 10)
        #expect(offline.longest < .milliseconds(100), "raise waited \(offline.longest)")

        try disk.free()
        #expect(await rig.uplink.flush(timeout: .seconds(20)), "what memory held was not written")
        let stored = try rig.outbox.pending(limit: 1000).compactMap { try? JSON.parse($0.item.payload) }
            .filter { $0["kind"] == .string("test") }
        let emergencies = stored.filter { $0["priority"]?.intValue == Priority.emergency }
        #expect(emergencies.count == 20, "every emergency is kept")
        for priority in [Priority.emergency, Priority.alert] {
            let sequence = stored.filter { $0["priority"]?.intValue == priority }.compactMap { $0["seq"]?.intValue }
            #expect(!sequence.isEmpty && sequence == sequence.sorted(), "written in the order raised")
        }
        #expect(
            await waitFor(timeout: 20) {
                (try? rig.outbox.pending(limit: 1000))?.contains { $0.item.topic.hasSuffix("/storage_recovered") }
                    == true
            })

        try rig.broker.start()
        let emergencyIDs = offline.ids.enumerated().filter { ($0.offset + 1) % 3 == 0 }.map(\.element)
        #expect(await waitFor(timeout: 60) { await rig.arrived(emergencyIDs) }, "emergencies lost")
        #expect(await waitFor(timeout: 30) { (try? rig.outbox.count()) == 0 })
        // Reported at most once per interval (1 s here): wait until the reports cover every gap.
        let explained = await waitFor(timeout: 20) {
            let (missing, reported) = Self.unexplainedGaps(
                await rig.events(), last: (try? rig.outbox.lastSequence()) ?? 0)
            return missing > 0 && missing == reported
        }
        #expect(explained, "some events are missing and no outbox_overflow says so")
        #expect(await rig.kinds("storage_fault").count == 1, "one report per episode")
        #expect(await rig.kinds("storage_recovered").count == 1)
        await rig.stop()
        Self.checkNothingLostUnreported(await rig.events(), last: try rig.outbox.lastSequence())
    }

    /// The filesystem turns read-only under the running unit (ext4 `errors=remount-ro`, as a failing SD card
    /// makes it): the unit goes on, events are delivered from memory, once each, and the fault is told.
    @Test func readOnlyDiskKeepsEventsInMemory() async throws {
        guard let disk = ScratchDisk.mount("an ext4 image on a loop device", { try .ext4(megabytes: 8) }) else {
            return
        }
        let rig = try await Rig(state: disk.path)
        let before = rig.raise(5).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(before) })

        try disk.breakToReadOnly()
        #expect(disk.isReadOnly)
        let after = rig.raise(30, emergencyEvery: 3, snapshot: 4 << 10)
        #expect(after.longest < .milliseconds(100), "raise waited \(after.longest)")
        #expect(await waitFor(timeout: 20) { await rig.arrived(after.ids) })
        #expect(await waitFor(timeout: 20) { await !rig.kinds("storage_fault").isEmpty }, "no storage_fault")
        let copies = await rig.copies(after.ids)
        #expect(copies.allSatisfy { $0 == 1 }, "\(copies)")
        // The first commit to fail may be a removal (of events delivered just before) or new events.
        let operation = await rig.kinds("storage_fault").first?["details"]?["operation"]?.stringValue
        #expect(operation == "store" || operation == "remove")
        let reason = await rig.kinds("storage_fault").first?["details"]?["reason"]?.stringValue ?? ""
        #expect(reason.contains("I/O error"), "\(reason)")

        // Still up: more events go, and the fault is not told again.
        let later = rig.raise(10).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(later) })
        #expect(await rig.kinds("storage_fault").count == 1)
        let sequence = await rig.events().compactMap { $0["seq"]?.intValue }
        #expect(Set(sequence) == Set(1...sequence.count), "every event, no gap")
        await rig.stop()
    }

    /// An item the client cannot publish (a snapshot larger than the broker's Maximum Packet Size, an event
    /// whose kind makes an invalid topic) is quarantined, told once, and does not block the items behind it.
    @Test func unpublishableItemsAreQuarantinedWhileTheRestFlows() async throws {
        let folder = try temporaryFolder("oversized").path
        let port = try freePort()
        let broker = try Broker(extraConfiguration: "listener \(port) 127.0.0.1\nmax_packet_size 20000", port: port)
        let rig = try await Rig(state: folder, broker: broker)
        var ids = rig.raise(3).ids
        let large = rig.uplink.raise(
            UplinkEvent(kind: "motion", snapshot: [UInt8](repeating: 0xFF, count: 30_000)))
        let invalid = rig.uplink.raise(UplinkEvent(kind: "bad+kind"))
        ids += rig.raise(10).ids
        #expect(await waitFor(timeout: 20) { await rig.arrived(ids + [large]) }, "the items behind were blocked")
        #expect(await waitFor(timeout: 20) { await !rig.kinds("outbox_quarantine").isEmpty })
        #expect(await !rig.arrived([invalid]))
        #expect(await rig.centre.inbox.messages.allSatisfy { !$0.topic.hasSuffix("/snapshot/\(large)") })
        #expect(await waitFor(timeout: 10) { rig.uplink.quarantinedCount() == 2 })
        let kept = try rig.outbox.quarantined(limit: 10)
        #expect(
            kept.map(\.stored.item.topic).sorted() == [
                Self.prefix + "event/bad+kind", Self.prefix + "snapshot/\(large)",
            ])
        #expect(kept.allSatisfy { $0.reason.hasPrefix("cannot be published") }, "\(kept.map(\.reason))")
        let report = await rig.kinds("outbox_quarantine").first
        #expect(report?["priority"]?.intValue == Priority.fault)
        #expect(await rig.kinds("outbox_quarantine").count == 1, "told once (then at most once a minute)")
        #expect(await rig.copies(ids).allSatisfy { $0 == 1 })
        await rig.stop()
    }
}
