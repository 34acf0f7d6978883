import Foundation
import Testing
import VigieCore
import VigieImage
import VigieStore
import VigieUplink

@Suite("Uplink against a real broker", .serialized)
struct UplinkIntegrationTests {
    /// Status, events, telemetry, snapshots and command replies arrive as documented; the last will says
    /// `lost` when the daemon is killed.
    @Test func unitReportsAndAnswers() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("unit")
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: "unit-e2e", uplink: "reply_prefix = \"centre/replies/\"")
        let prefix = "vigie/v1/unit-e2e/"
        let watcher = try TestClient.subscriber(broker, topic: prefix + "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: prefix + "probe"), "the watcher's subscription never worked")
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "3"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let inbox = watcher.inbox

        let online = await inbox.wait(timeout: 30) {
            $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
        }
        #expect(online, "no online status\n\(daemon.output)")
        let status = await inbox.messages.first { $0.topic == prefix + "status" }?.json
        #expect(status?["firmware"]?.stringValue != nil && status?["boot"]?.intValue == 1)
        #expect(status?["capabilities"]?.arrayValue?.contains(.string("privacy_masks")) == true)

        #expect(await inbox.wait(timeout: 20) { $0.filter { $0.topic == prefix + "event/test" }.count == 3 })
        for event in await inbox.messages.filter({ $0.topic == prefix + "event/test" }) {
            let json = try #require(event.json)
            #expect(json["id"]?.stringValue?.count == 26)
            #expect(json["seq"]?.intValue != nil)
            #expect(json["time"]?.stringValue?.hasSuffix("Z") == true)
            #expect(json["device"] == .string("unit-e2e"))
            #expect(json["historical"] == nil)
        }

        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "telemetry" } })
        let telemetry = try #require(await inbox.messages.first { $0.topic == prefix + "telemetry" }?.json)
        #expect(telemetry["link"] == .string("online"))
        #expect(telemetry["protocol"] == .string("5"))
        #expect(telemetry["outbox_depth"]?.intValue != nil)
        #expect(telemetry["fps"]?.numberValue != nil)

        // Commands, answered on reply/<id>.
        var centreOptions = MQTTClient.Options(clientID: "centre", brokers: [broker.url])
        centreOptions.subscriptions = ["centre/replies/#"]
        let centre = try TestClient(centreOptions)
        defer { centre.stop() }
        #expect(await centre.ready(probe: "centre/replies/probe"), "the centre's subscription never worked")
        func send(_ name: String, _ payload: String, responseTopic: String? = nil, correlation: [UInt8]? = nil) throws {
            try centre.client.publish(
                topic: prefix + "cmd/" + name, payload: Array(payload.utf8), qos: 1, correlationData: correlation,
                responseTopic: responseTopic)
        }
        try send("selftest", #"{"id":"t1"}"#)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/t1" } })
        let selftest = try #require(await inbox.messages.first { $0.topic == prefix + "reply/t1" }?.json)
        #expect(selftest["ok"] == .bool(true))
        #expect(selftest["result"]?["camera"]?["ok"] == .bool(true))

        try send("snapshot", #"{"id":"s1"}"#)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/s1" } })
        let reply = try #require(await inbox.messages.first { $0.topic == prefix + "reply/s1" }?.json)
        let snapshotTopic = try #require(reply["result"]?["topic"]?.stringValue)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == snapshotTopic } })
        let jpeg = try #require(await inbox.messages.first { $0.topic == snapshotTopic }?.payload)
        let image = try JPEGDecoder().decode(jpeg)
        // The configured mask covers 0.05…0.4 × 0.05…0.45: its inside, a block away from the edge, is black.
        for y in stride(from: Int(0.05 * Double(image.height)) + 16, to: Int(0.45 * Double(image.height)) - 16, by: 3) {
            for x in stride(from: Int(0.05 * Double(image.width)) + 16, to: Int(0.4 * Double(image.width)) - 16, by: 3)
            {
                #expect(image.luma(x: x, y: y) <= 3)
            }
        }

        // reload: a valid file is applied (and reported); a broken one is refused and changes nothing.
        try send("reload", #"{"id":"r1"}"#)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/r1" } })
        #expect(
            await inbox.messages.first { $0.topic == prefix + "reply/r1" }?.json?["result"]?["masks"]?.intValue == 1)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "event/config_changed" } })
        let original = try String(contentsOf: configuration, encoding: .utf8)
        try (original + "\n[motion]\nsensitivity = 7\n").write(to: configuration, atomically: true, encoding: .utf8)
        try send("reload", #"{"id":"r2"}"#)
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/r2" } })
        let refused = await inbox.messages.first { $0.topic == prefix + "reply/r2" }?.json
        #expect(refused?["error"]?["code"] == .string("invalid_configuration"))
        #expect(refused?["error"]?["message"]?.stringValue?.contains("motion.sensitivity") == true)
        try original.write(to: configuration, atomically: true, encoding: .utf8)

        try send("selftest", "{")
        try send("reboot", #"{"id":"x9"}"#)
        try send("disarm", #"{"id":"d1","minutes":-4}"#)
        #expect(
            await inbox.wait(timeout: 10) { messages in
                ["reply/error", "reply/x9", "reply/d1"].allSatisfy { suffix in
                    messages.contains { $0.topic == prefix + suffix }
                }
            })
        let codes = await inbox.messages.filter { $0.topic.hasPrefix(prefix + "reply/") }.compactMap {
            $0.json?["error"]?["code"]?.stringValue
        }
        #expect(Set(codes) == ["invalid_configuration", "malformed_json", "unknown_command", "invalid_field"])

        // MQTT 5 request/response: the reply goes to the response topic with the correlation data.
        try send("arm", #"{"id":"a5"}"#, responseTopic: "centre/replies/a5", correlation: [7, 7])
        #expect(
            await centre.inbox.wait(timeout: 10) {
                $0.contains { $0.topic == "centre/replies/a5" && $0.json?["ok"] == .bool(true) }
            })

        // SIGKILL: the broker publishes the last will.
        daemon.kill()
        #expect(
            await inbox.wait(timeout: 20) {
                $0.last { $0.topic == prefix + "status" }?.json?["state"] == .string("lost")
            })
    }

    @Test func cleanShutdownSaysOffline() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("offline")
        let configuration = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-off")
        let watcher = try TestClient.subscriber(broker, topic: "vigie/v1/unit-off/status")
        defer { watcher.stop() }
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        #expect(
            await watcher.inbox.wait(timeout: 30) { $0.last?.json?["state"] == .string("online") }, "\(daemon.output)")
        #expect(daemon.terminate() == 0, "\(daemon.output)")
        #expect(await watcher.inbox.wait(timeout: 10) { $0.last?.json?["state"] == .string("offline") })
    }

    /// Store-and-forward: events raised while the broker is down three times and the daemon is killed once
    /// all arrive, in order within each priority, and the outbox ends empty. Each step waits for what it needs
    /// (deliveries, events stored during an outage, events older than `historical_after`), not for a time.
    @Test func nothingIsLost() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("noloss")
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: "unit-nl", telemetry: 3600, uplink: "historical_after = 1")
        let prefix = "vigie/v1/unit-nl/event/"
        let subscriber = try TestClient.subscriber(broker, topic: prefix + "#", id: "centre-noloss", persistent: true)
        defer { subscriber.stop() }
        #expect(await subscriber.ready(probe: prefix + "probe"), "the subscription never worked")
        let inbox = subscriber.inbox
        let log = folder.appendingPathComponent("vigied.log")
        func raise(every milliseconds: Int) -> [String] {
            ["--config", configuration.path, "--test-events", "1000", "--test-event-interval", "\(milliseconds)"]
        }
        func delivered() async -> Int { await inbox.messages.count { $0.json?["seq"] != nil } }
        /// Waits until `count` more events than now have arrived.
        func deliveries(_ count: Int, _ what: String, _ daemon: DaemonProcess) async throws {
            let target = await delivered() + count
            let arrived = await waitFor(timeout: 30) { await delivered() >= target }
            try #require(arrived, "\(what): no deliveries\n\(daemon.output.suffix(2000))")
        }

        let first = try DaemonProcess(arguments: raise(every: 3), log: log)
        try await deliveries(50, "first run", first)
        let stateDirectory = folder.path + "/state"
        let outbox = try SQLiteOutbox(directory: stateDirectory)
        /// Waits until `count` more events than now are stored (raised while the broker is down).
        func stored(_ count: Int, _ what: String) async throws {
            let target = try outbox.lastSequence() + Int64(count)
            let raised = await waitFor(timeout: 30) { ((try? outbox.lastSequence()) ?? 0) >= target }
            try #require(raised, "\(what): no events stored")
        }
        broker.stop()  // outage 1
        try await stored(50, "outage 1")
        try broker.start()
        try await deliveries(50, "after outage 1", first)
        first.kill()  // power cut in the middle of raising events
        // The numbers the first run committed, and those it had reserved: an event may have gone out numbered in
        // between before its commit; the second run numbers past the reservation, so never the same number twice.
        let counters = try outbox.counters()
        let raisedByFirst = counters.sequence
        #expect(counters.reservation > raisedByFirst, "a killed daemon leaves its reservation")
        let skipped = (raisedByFirst + 1)...counters.reservation

        // Slower, so that it is still raising through the three steps of outages below (at least 6 s).
        let second = try DaemonProcess(arguments: raise(every: 6), log: log)
        defer { second.kill() }
        try await deliveries(50, "second run", second)
        broker.stop()  // outage 2
        try await stored(50, "outage 2")
        try broker.start()
        try await deliveries(50, "after outage 2", second)
        broker.stop()  // outage 3: until some stored event is older than historical_after (1 s)
        let stale = await waitFor(timeout: 30) {
            let oldest = (try? outbox.pending(limit: 5000))?.map(\.item.createdAt).min()
            return oldest.map { UplinkService.nowMillis() - $0 > 1500 } ?? false
        }
        #expect(stale, "no event waited through outage 3")
        try broker.start()
        // The second run raises its 1000 test events (the camera's motion events take numbers too).
        let raised = await waitFor(timeout: 90) {
            ((try? outbox.lastSequence()) ?? 0) >= counters.reservation + 1000
        }
        #expect(raised, "the second run did not finish raising\n\(second.output.suffix(3000))")
        /// Every number given to an event that was committed: all but those the first run may have left unused.
        func expected(through last: Int64) -> Set<Int> {
            Set((1...Int(last)).filter { !skipped.contains(Int64($0)) })
        }
        let complete = await waitFor(timeout: 90) {
            let last = (try? outbox.lastSequence()) ?? 0
            return Set(await inbox.messages.compactMap { $0.json?["seq"]?.intValue }).isSuperset(
                of: expected(through: last))
        }
        #expect(second.terminate() == 0)
        let last = try outbox.lastSequence()
        #expect(try outbox.count() == 0, "the outbox did not drain\n\(second.output.suffix(3000))")
        // What the daemon raised as it stopped (the camera's last motion_end) went out as it drained: the broker
        // acknowledged it, the subscriber may get it a moment after the daemon has exited.
        _ = await waitFor(timeout: 10) {
            Set(await inbox.messages.compactMap { $0.json?["seq"]?.intValue }).isSuperset(of: expected(through: last))
        }
        let messages = await inbox.messages
        var seen: Set<Int> = []
        // Order is checked on event ids (time-sortable), not on `seq`: the second run numbers past the first's
        // reservation, and its stored events arrive among the first's.
        var ids: Set<String> = []
        var numbered: [Int: Set<String>] = [:]  // seq → the ids that came with it
        var order: [Int: [String]] = [:]  // priority → event ids, first arrivals
        for message in messages {
            guard let json = message.json, let seq = json["seq"]?.intValue, let id = json["id"]?.stringValue,
                let priority = json["priority"]?.intValue
            else { continue }
            seen.insert(seq)
            numbered[seq, default: []].insert(id)
            if ids.insert(id).inserted { order[priority, default: []].append(id) }
        }
        #expect(complete)
        let missing = expected(through: last).subtracting(seen)
        #expect(missing.isEmpty, "\(missing.count) events lost, e.g. \(missing.sorted().prefix(10))")
        let reused = numbered.filter { $0.value.count > 1 }.keys.sorted()
        #expect(reused.isEmpty, "numbers given to two events: \(reused.prefix(10))")
        for (priority, arrived) in order {
            #expect(arrived == arrived.sorted(), "priority \(priority) arrived out of order")
        }
        #expect(order[Priority.emergency]?.count ?? 0 >= 100)
        let late = messages.filter { $0.json?["historical"] == .bool(true) }.count
        #expect(late > 0, "events delivered after an outage are marked historical")
    }

    /// A broker that refuses the unit's events (an ACL mistake at the centre): each refused event is quarantined
    /// (kept in the outbox with why, never offered again, not even after a reconnection), telemetry counts them,
    /// and the broker sees each one once. The broker's own log counts what it denied.
    @Test func refusedEventsAreQuarantined() async throws {
        let folder = try temporaryFolder("acl")
        let acl = folder.appendingPathComponent("acl")
        try """
        topic readwrite vigie/v1/unit-acl/status
        topic readwrite vigie/v1/unit-acl/telemetry
        topic read vigie/v1/unit-acl/cmd/#

        """.write(to: acl, atomically: true, encoding: .utf8)
        chmod(folder.path, 0o755)
        chmod(acl.path, 0o644)
        let port = try freePort()
        let broker = try Broker(
            extraConfiguration: "listener \(port) 127.0.0.1\nacl_file \(acl.path)\nlog_type all", port: port)
        try broker.start()
        defer { broker.stop() }
        let watcher = try TestClient.subscriber(broker, topic: "vigie/v1/unit-acl/#")
        defer { watcher.stop() }
        let configuration = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-acl", telemetry: 1)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "3"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        // The three events, and the outbox_quarantine report that says so (refused too).
        @Sendable func quarantined(_ message: Inbox.Received) -> Int {
            message.json?["outbox_quarantined"]?.intValue ?? 0
        }
        let counted = await watcher.inbox.wait(timeout: 20) { $0.contains { quarantined($0) >= 4 } }
        #expect(counted, "no telemetry with the events quarantined\n\(daemon.output)")
        let telemetry = await watcher.inbox.messages.last { quarantined($0) >= 4 }?.json
        #expect(telemetry?["outbox_quarantined"]?.intValue == 4)
        #expect(telemetry?["outbox_depth"]?.intValue == 0, "quarantined items are not waiting")
        func denied() -> Int {
            let log = (try? String(contentsOf: broker.folder.appendingPathComponent("mosquitto.log"), encoding: .utf8))
            return log?.split(separator: "\n").count { $0.contains("Denied PUBLISH") && $0.contains("/event/test") }
                ?? 0
        }
        #expect(denied() == 3)

        // A reconnection offers the outbox again from the start: quarantined items are not in it.
        let before = await watcher.inbox.connections
        broker.stop()
        try broker.start()
        // Back when telemetry follows the new `online` status: whatever the unit republished after connecting went
        // to the broker before it.
        let back = await waitFor(timeout: 30) {
            let messages = await watcher.inbox.messages
            guard await watcher.inbox.connections > before,
                let online = messages.indices.filter({ messages[$0].topic == "vigie/v1/unit-acl/status" }).dropFirst()
                    .first
            else { return false }
            return messages[online...].contains { $0.topic == "vigie/v1/unit-acl/telemetry" }
        }
        #expect(back, "the unit did not come back\n\(daemon.output)")
        #expect(denied() == 3, "a quarantined event was offered again")
        #expect(daemon.terminate() == 0)

        let outbox = try SQLiteOutbox(directory: folder.path + "/state")
        let kept = try outbox.quarantined(limit: 100).filter { $0.stored.item.topic == "vigie/v1/unit-acl/event/test" }
        #expect(kept.count == 3, "refused events stay in the outbox")
        #expect(kept.allSatisfy { $0.reason.contains("Not authorized") }, "\(kept.map(\.reason))")
        #expect(try outbox.count() == 0)
    }

    /// Plain MQTT to a broker on another machine, and a password over it: vigied refuses to start, with a
    /// configuration error (exit status 78, as for any invalid file) that names the file, line and key.
    @Test func plaintextToAnotherMachineIsRefusedAtStart() async throws {
        let folder = try temporaryFolder("plaintext")
        let cases: [(url: String, extra: String, arguments: [String], expected: String)] = [
            ("mqtt://192.0.2.10:1883", "", [], "uplink.brokers[1]: mqtt://192.0.2.10:1883 is plain MQTT"),
            ("mqtt://192.0.2.10:1883", "allow_plaintext = true\npassword = \"s3cret\"", [], "uplink.password: "),
            (
                "mqtt://127.0.0.1:1883", "", ["--broker", "mqtt://csu.example.fr"],
                "--broker: mqtt://csu.example.fr:1883"
            ),
        ]
        for (index, test) in cases.enumerated() {
            let configuration = try unitConfiguration(
                folder: folder, brokerURL: test.url, deviceID: "unit-plain", uplink: test.extra)
            let text = try String(contentsOf: configuration, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let key = test.extra.isEmpty ? "brokers =" : "password ="
            let line = try #require(lines.firstIndex { $0.hasPrefix(key) }) + 1
            let daemon = try DaemonProcess(
                arguments: ["--config", configuration.path] + test.arguments,
                log: folder.appendingPathComponent("vigied-\(index).log"))
            defer { daemon.kill() }
            #expect(await daemon.exitCode(within: 20) == 78, "\(daemon.output)")
            let located = test.arguments.isEmpty ? "\(configuration.path):\(line): " + test.expected : test.expected
            #expect(daemon.output.contains(located), "\(daemon.output)")
            #expect(!daemon.output.contains("s3cret"))
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/state/outbox.sqlite"), "nothing started")
        }
    }
}
