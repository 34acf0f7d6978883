import Foundation
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// vigied started with a bad state folder, outbox or certificate (a real daemon, a real broker): it runs,
/// films and reports the fault instead of exiting, and recovers by itself once the cause is gone.
@Suite("Degraded boot", .serialized)
struct DegradedBootTests {
    static let deviceID = "unit-degraded"
    static let prefix = "vigie/v1/\(deviceID)/"

    /// The configuration of `unitConfiguration` with its state folder at `state`.
    static func configuration(folder: URL, broker: Broker, state: String) throws -> URL {
        let url = try unitConfiguration(folder: folder, broker: broker, deviceID: deviceID)
        let text = try String(contentsOf: url, encoding: .utf8)
            .replacingOccurrences(of: "state_dir = \"\(folder.path)/state\"", with: "state_dir = \"\(state)\"")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    static func events(_ inbox: Inbox, _ kind: String) async -> [JSONValue] {
        await inbox.messages.filter { $0.topic == prefix + "event/\(kind)" }.compactMap(\.json)
    }

    /// Garbage where the outbox should be: the daemon sets it aside, makes a new one, tells the centre in
    /// `storage_recovered`, and delivers its events.
    @Test func corruptOutboxIsSetAsideAndReplaced() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("corrupt")
        let state = folder.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let garbage = Data((0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) })
        try garbage.write(to: URL(fileURLWithPath: state + "/outbox.sqlite"))
        let centre = try TestClient.subscriber(broker, topic: Self.prefix + "#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: Self.prefix + "probe"))
        let configuration = try Self.configuration(folder: folder, broker: broker, state: state)
        let socket = folder.path + "/control.sock"
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "3", "--control-socket", socket],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        let recovered = await waitFor(timeout: 30) { await !Self.events(centre.inbox, "storage_recovered").isEmpty }
        try #require(recovered, "no storage_recovered\n\(daemon.output.suffix(3000))")
        let event = try #require(await Self.events(centre.inbox, "storage_recovered").first)
        #expect(event["priority"]?.intValue == Priority.fault)
        #expect(event["details"]?["cause"] == .string("corrupt_outbox"))
        let aside = try #require(event["details"]?["set_aside"]?.stringValue)
        #expect(aside.hasPrefix(state + "/outbox.sqlite.corrupt-"))
        #expect(FileManager.default.contents(atPath: aside) == garbage, "the damaged file is not kept as it was")
        #expect(await waitFor(timeout: 20) { await Self.events(centre.inbox, "test").count == 3 })
        #expect(daemon.output.contains("error") && daemon.output.contains("the outbox was damaged"))
        // The technician sees it among the last events.
        let status = try ControlTests.vigie("status", "--json", "--socket", socket)
        let kinds = status.json?["last_events"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
        #expect(kinds.contains("storage_recovered"), "\(status.output)")
        // The new outbox works: the daemon stops cleanly with everything delivered and its numbering kept.
        #expect(daemon.terminate() == 0)
        let outbox = try SQLiteOutbox(directory: state)
        #expect(try outbox.count() == 0)
        #expect(try outbox.lastSequence() >= 4)
    }

    /// Garbage where the event store should be: set aside, a new one made, and the centre told; then a store that
    /// cannot write (its write lock held elsewhere, as by a disk that stalls) is a `storage_fault` while events
    /// wait, and `storage_recovered` once it writes again, the waiting events committed.
    @Test func damagedOrFailingEventStoreIsToldToTheCentre() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("corrupt-store")
        let state = folder.path + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let garbage = Data((0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try garbage.write(to: URL(fileURLWithPath: state + "/" + EventStore.fileName))
        let centre = try TestClient.subscriber(broker, topic: Self.prefix + "#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: Self.prefix + "probe"))
        let configuration = try Self.configuration(folder: folder, broker: broker, state: state)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        func recovered() async -> [JSONValue] { await Self.events(centre.inbox, "storage_recovered") }
        #expect(await waitFor(timeout: 30) { await !recovered().isEmpty }, "\(daemon.output.suffix(3000))")
        let replaced = try #require(await recovered().first)
        #expect(replaced["priority"]?.intValue == Priority.fault)
        #expect(replaced["details"]?["cause"] == .string("corrupt_event_store"))
        let aside = try #require(replaced["details"]?["set_aside"]?.stringValue)
        #expect(aside.hasPrefix(state + "/" + EventStore.fileName + ".corrupt-"))
        #expect(FileManager.default.contents(atPath: aside) == garbage)

        // The store cannot write: the next event waits, and the centre hears of it once.
        let lock = try SQLiteShell.WriteLock(state + "/" + EventStore.fileName)
        try centre.client.publish(
            topic: Self.prefix + "cmd/selftest", payload: Array(#"{"id":"t1"}"#.utf8), qos: 1)
        func faults() async -> [JSONValue] { await Self.events(centre.inbox, "storage_fault") }
        #expect(await waitFor(timeout: 20) { await !faults().isEmpty }, "\(daemon.output.suffix(3000))")
        let fault = try #require(await faults().first)
        #expect(fault["details"]?["operation"] == .string("event_store"))
        #expect(fault["details"]?["reason"]?.stringValue?.contains("locked") == true, "\(fault)")
        #expect(fault["details"]?["held_in_memory"]?.stringValue.flatMap { Int($0) }.map { $0 >= 1 } == true)
        lock.release()
        // Told once it has written for 10 s without failing again.
        #expect(await waitFor(timeout: 30) { await recovered().count >= 2 }, "\(daemon.output.suffix(3000))")
        let back = try #require(await recovered().last)
        #expect(back["details"]?["operation"] == .string("event_store"))
        #expect(back["details"]?["written"]?.stringValue.flatMap { Int($0) }.map { $0 >= 1 } == true, "\(back)")
        #expect(await faults().count == 1)
        // Nothing was lost meanwhile: the self-test and the fault itself are in the store.
        #expect(daemon.terminate() == 0)
        let kinds = try EventStore(readingFrom: state).events(EventFilter()).map(\.kind)
        #expect(kinds.contains("selftest") && kinds.contains("storage_fault"), "\(kinds)")
    }

    /// The state folder is on a filesystem mounted read-only, with the outbox of a previous run in it (three
    /// events not delivered): the daemon starts, reports `storage_fault`, delivers its events from memory,
    /// numbered after the old ones (read without writing); remounted read-write, the outbox opens by itself,
    /// `storage_recovered` is told, the old events go out and the new ones are committed.
    @Test func readOnlyStateFolderKeepsEventsInMemoryUntilWritable() async throws {
        guard let disk = ScratchDisk.mount("an ext4 image on a loop device", { try .ext4(megabytes: 8) }) else {
            return
        }
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        do {
            let previous = try SQLiteOutbox(directory: disk.path)
            let items = (1...3).map { n in
                StoredItem(
                    id: Int64(n),
                    item: OutboxItem(
                        topic: Self.prefix + "event/test",
                        payload: Array(#"{"id":"old-\#(n)","kind":"test","seq":\#(n)}"#.utf8),
                        priority: Priority.alert, kind: .event, createdAt: UplinkService.nowMillis()))
            }
            try previous.write(OutboxBatch(items: items, sequence: 3))
        }
        try disk.remount(readOnly: true)
        #expect(disk.isReadOnly)
        let centre = try TestClient.subscriber(broker, topic: Self.prefix + "#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: Self.prefix + "probe"))
        let folder = try temporaryFolder("readonly")
        let configuration = try Self.configuration(folder: folder, broker: broker, state: disk.path)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "5", "--test-event-interval", "200"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        // The outbox's fault and the event store's (it cannot be opened either), in either order.
        func faults(_ operation: String) async -> [JSONValue] {
            await Self.events(centre.inbox, "storage_fault").filter {
                $0["details"]?["operation"] == .string(operation)
            }
        }
        let fault = await waitFor(timeout: 30) { await !faults("store").isEmpty }
        try #require(fault, "no storage_fault\n\(daemon.output.suffix(3000))")
        let faultEvent = await faults("store").first
        #expect(faultEvent?["details"]?["reason"]?.stringValue?.contains("read-only") == true)
        let delivered = await waitFor(timeout: 30) {
            await Self.events(centre.inbox, "test").filter { $0["details"] != nil }.count == 5
        }
        #expect(delivered, "the events kept in memory were not delivered\n\(daemon.output.suffix(3000))")
        let sequence = await Self.events(centre.inbox, "test").compactMap { $0["seq"]?.intValue }
        #expect(sequence.allSatisfy { $0 > 3 }, "numbering went back: \(sequence)")
        #expect(await Self.events(centre.inbox, "test").allSatisfy { $0["id"]?.stringValue?.hasPrefix("old-") != true })
        #expect(daemon.output.contains("the outbox cannot be opened for writing"))
        #expect(await daemon.exitCode(within: 0.5) == nil, "the daemon exited")

        try disk.remount(readOnly: false)
        // The writer retries with backoff (30 s at most), then writes must work for 10 s.
        let recovered = await waitFor(timeout: 60) { await !Self.events(centre.inbox, "storage_recovered").isEmpty }
        #expect(recovered, "no storage_recovered\n\(daemon.output.suffix(3000))")
        let old = await waitFor(timeout: 20) {
            let ids = Set(await Self.events(centre.inbox, "test").compactMap { $0["id"]?.stringValue })
            return ids.isSuperset(of: ["old-1", "old-2", "old-3"])
        }
        #expect(old, "the previous run's events were not delivered")
        #expect(await faults("store").count == 1, "one report per episode")
        #expect(await faults("event_store_open").count == 1, "one report per episode")
        // The event store opens by itself too, and what waited is committed in it.
        let opened = await waitFor(timeout: 30) {
            await Self.events(centre.inbox, "storage_recovered").contains {
                $0["details"]?["operation"] == .string("event_store_open")
            }
        }
        #expect(opened, "the event store did not open once the folder was writable")
        #expect(daemon.terminate() == 0)
        let outbox = try SQLiteOutbox(directory: disk.path)
        #expect(try outbox.count() == 0, "not everything delivered was removed")
        let last = try outbox.lastSequence()
        #expect(last >= Int64(sequence.max() ?? 99), "the new events were not committed")
        let kept = try EventStore(readingFrom: disk.path).events(EventFilter(kinds: ["test"]))
        #expect(kept.count >= 5, "the events raised while the store could not be opened were not kept")
    }

    /// The client certificate is missing: the camera runs (frames advance, as systemd's status shows), the
    /// fault is logged, and once the file is there the unit connects and the `uplink_fault` it kept goes out.
    @Test func missingCertificateKeepsTheCameraRunningAndConnectsLater() async throws {
        let certificates = try TestCertificates()
        let broker = try TLSTests.tlsBroker(certificates)
        defer { broker.stop() }
        var options = MQTTClient.Options(
            clientID: "centre-tls", brokers: [BrokerURL("mqtts://127.0.0.1:\(broker.port)")!])
        options.caFile = certificates.path("ca.crt")
        options.certFile = certificates.path("unit.crt")
        options.keyFile = certificates.path("unit.key")
        options.subscriptions = [Self.prefix + "#"]
        options.backoff = Backoff(initial: 0.2, maximum: 1, jitter: 0.1)
        let centre = try TestClient(options)
        defer { centre.stop() }
        #expect(await centre.ready(probe: Self.prefix + "probe"))

        let folder = try temporaryFolder("nocert")
        let late = certificates.path("late.crt")
        let configuration = try unitConfiguration(
            folder: folder, brokerURL: "mqtts://127.0.0.1:\(broker.port)", deviceID: Self.deviceID,
            uplink: """
                ca_file = "\(certificates.path("ca.crt"))"
                cert_file = "\(late)"
                key_file = "\(certificates.path("unit.key"))"
                """)
        let notify = try SystemdTests.NotifySocket(folder: folder)
        defer { notify.stop() }
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"),
            environment: ["NOTIFY_SOCKET": notify.path])
        defer { daemon.kill() }

        func frames() -> [Int] {
            notify.lines("STATUS=").compactMap { line in
                line.firstMatch(of: /(\d+) frames/).flatMap { Int($0.1) }
            }
        }
        let filming = await waitFor(timeout: 30) { (frames().max() ?? 0) > (frames().min() ?? 0) }
        #expect(filming, "no frames while the uplink cannot start\n\(daemon.output.suffix(3000))")
        #expect(await daemon.exitCode(within: 0.5) == nil, "the daemon exited\n\(daemon.output.suffix(3000))")
        #expect(notify.lines("STATUS=").last?.contains("FAULT: uplink cannot start") == true)
        #expect(daemon.output.contains("uplink fault") && daemon.output.contains("error"))
        #expect(await centre.inbox.messages.allSatisfy { !$0.topic.hasPrefix(Self.prefix + "status") })

        try FileManager.default.copyItem(atPath: certificates.path("unit.crt"), toPath: late)
        // Retried with backoff (2 s doubling, 60 s at most): within about 30 s of the file appearing.
        let online = await centre.inbox.wait(timeout: 60) {
            $0.contains { $0.topic == Self.prefix + "status" && $0.json?["state"] == .string("online") }
        }
        #expect(online, "no connection once the certificate is there\n\(daemon.output.suffix(3000))")
        #expect(await waitFor(timeout: 20) { await !Self.events(centre.inbox, "uplink_fault").isEmpty })
        let event = await Self.events(centre.inbox, "uplink_fault").first
        #expect(event?["details"]?["reason"]?.stringValue?.contains("TLS") == true, "\(String(describing: event))")
        #expect(event?["historical"] == .bool(true))
        #expect(daemon.terminate() == 0)
    }
}
