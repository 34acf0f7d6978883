import Foundation
import Testing
import VigieCore
import VigieUplink

/// Commands from the centre against a real broker, to vigied run as a separate process.
@Suite("Commands against a real broker", .serialized)
struct CommandIntegrationTests {
    /// A running unit, a subscriber to its whole tree (and everything else), and a centre to send commands.
    struct Rig {
        let broker: Broker
        let daemon: DaemonProcess
        let watcher: TestClient
        let prefix: String

        init(_ name: String, uplink: String = "", telemetry: Double = 3600, arguments: [String] = []) async throws {
            broker = try Broker()
            try broker.start()
            let folder = try temporaryFolder(name)
            prefix = "vigie/v1/\(name)/"
            watcher = try TestClient.subscriber(broker, topic: "#")
            #expect(await watcher.ready(probe: "test/probe"), "the watcher's subscription never worked")
            let configuration = try unitConfiguration(
                folder: folder, broker: broker, deviceID: name, telemetry: telemetry, uplink: uplink)
            daemon = try DaemonProcess(
                arguments: ["--config", configuration.path] + arguments,
                log: folder.appendingPathComponent("vigied.log"))
            let prefix = self.prefix
            let online = await watcher.inbox.wait(timeout: 30) {
                $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
            }
            #expect(online, "no online status\n\(daemon.output)")
        }

        /// Sends a command from the watcher's connection.
        func send(_ name: String, _ payload: String, responseTopic: String? = nil, correlation: [UInt8]? = nil) throws {
            try watcher.client.publish(
                topic: prefix + "cmd/" + name, payload: Array(payload.utf8), qos: 1, correlationData: correlation,
                responseTopic: responseTopic)
        }

        func messages(on topic: String) async -> [Inbox.Received] {
            await watcher.inbox.messages.filter { $0.topic == topic }
        }

        func stop() {
            daemon.kill()
            watcher.stop()
            broker.stop()
        }
    }

    /// An MQTT 5 response topic outside the unit's reply tree is not used: the reply goes to `reply/<id>` (with
    /// the correlation data), and nothing is published where the request pointed. One inside the tree is used.
    @Test func responseTopicOutsideTheTreeIsNotUsed() async throws {
        let rig = try await Rig("unit-rt")
        defer { rig.stop() }
        let prefix = rig.prefix
        let rogue = [
            "centre/elsewhere/1", "vigie/v1/unit-other/reply/r1", prefix + "event/motion", prefix + "status",
            prefix + "cmd/arm",
        ]
        for (index, topic) in rogue.enumerated() {
            try rig.send("arm", #"{"id":"rt\#(index)"}"#, responseTopic: topic, correlation: [UInt8(index), 42])
        }
        try rig.send("arm", #"{"id":"in-tree"}"#, responseTopic: prefix + "reply/centre/7", correlation: [7])
        let expected = rogue.indices.map { prefix + "reply/rt\($0)" } + [prefix + "reply/centre/7"]
        let answered = await rig.watcher.inbox.wait(timeout: 15) { messages in
            expected.allSatisfy { topic in messages.contains { $0.topic == topic } }
        }
        #expect(answered, "\(rig.daemon.output)")
        // A last command as a fence: whatever the unit published for the earlier ones has arrived before its reply.
        try rig.send("selftest", #"{"id":"fence"}"#)
        #expect(await rig.watcher.inbox.wait(timeout: 15) { $0.contains { $0.topic == prefix + "reply/fence" } })

        for (index, _) in rogue.enumerated() {
            let reply = try #require(await rig.messages(on: prefix + "reply/rt\(index)").first)
            #expect(reply.json?["ok"] == .bool(true))
            #expect(reply.correlationData == [UInt8(index), 42])
        }
        let inTree = try #require(await rig.messages(on: prefix + "reply/centre/7").first)
        #expect(inTree.json?["id"] == .string("in-tree"))
        #expect(inTree.correlationData == [7])
        #expect(await rig.messages(on: prefix + "reply/in-tree").isEmpty)
        // Nothing that looks like a reply anywhere it was sent (the unit's own events and status carry no
        // `command`; the centre's own commands are on cmd/).
        for topic in rogue {
            let replies = await rig.messages(on: topic).filter { $0.json?["command"] != nil }
            #expect(replies.isEmpty, "a reply was published on \(topic)")
        }
        #expect(await rig.messages(on: "centre/elsewhere/1").isEmpty)
        #expect(await rig.messages(on: "vigie/v1/unit-other/reply/r1").isEmpty)
    }

    /// 100 `selftest` in a burst: the first few run, every other one is answered `rate_limited` (and does not
    /// run), and the camera keeps its frame rate meanwhile.
    @Test func commandFloodIsRateLimitedWithoutSlowingFrames() async throws {
        let rig = try await Rig("unit-flood", telemetry: 1)
        defer { rig.stop() }
        let prefix = rig.prefix
        /// (unit's time in ms, frames) of the first telemetry sample taken at or after `notBefore`.
        func sample(after notBefore: Int64) async throws -> (time: Int64, frames: Int) {
            @Sendable func parse(_ message: Inbox.Received) -> (time: Int64, frames: Int)? {
                guard message.topic == prefix + "telemetry", let json = message.json,
                    let time = json["time"]?.stringValue.flatMap({ millis(rfc3339: $0) }),
                    let frames = json["frames"]?.intValue, frames > 0
                else { return nil }
                return (time, frames)
            }
            let arrived = await rig.watcher.inbox.wait(timeout: 15) {
                $0.contains { parse($0).map { $0.time >= notBefore } ?? false }
            }
            try #require(arrived, "no telemetry\n\(rig.daemon.output.suffix(2000))")
            return try #require(await rig.watcher.inbox.messages.lazy.compactMap(parse).first { $0.time >= notBefore })
        }
        func rate(_ from: (time: Int64, frames: Int), _ to: (time: Int64, frames: Int)) -> Double {
            Double(to.frames - from.frames) * 1000 / Double(to.time - from.time)
        }
        // The frame rate before the flood (over 3 s), and over the 3 s the flood starts.
        let start = try await sample(after: .min)
        let beforeFlood = try await sample(after: start.time + 3000)

        let sent = ContinuousClock.now
        for index in 0..<100 { try rig.send("selftest", #"{"id":"f\#(index)"}"#) }
        let replyTopics = Set((0..<100).map { prefix + "reply/f\($0)" })
        let all = await rig.watcher.inbox.wait(timeout: 30) { messages in
            Set(messages.map(\.topic)).isSuperset(of: replyTopics)
        }
        let elapsed = Double((ContinuousClock.now - sent).components.seconds) + 1
        #expect(all, "\(rig.daemon.output.suffix(2000))")
        let replies = await rig.watcher.inbox.messages.filter { replyTopics.contains($0.topic) }.compactMap(\.json)
        #expect(replies.count == 100, "one reply per command")
        let ran = replies.filter { $0["ok"] == .bool(true) }
        let limited = replies.filter { $0["error"]?["code"] == .string("rate_limited") }
        // A burst of 5, then one every 2 s while the replies came in.
        #expect(ran.count >= 5 && Double(ran.count) <= 5 + (elapsed / 2).rounded(.up), "\(ran.count) ran")
        #expect(ran.count + limited.count == 100)
        #expect(ran.allSatisfy { $0["result"]?["camera"]?["ok"] == .bool(true) })
        #expect(limited.first?["error"]?["message"]?.stringValue?.contains("try again in") == true)

        let afterFlood = try await sample(after: beforeFlood.time + 3000)
        let normal = rate(start, beforeFlood)
        let during = rate(beforeFlood, afterFlood)
        // Compared with the same unit just before, so that a busy test machine slows both alike.
        #expect(normal > 0 && during >= 0.75 * normal, "\(during) frames/s with the flood, \(normal) before")
    }

    /// `seq` counts events only: snapshots asked for by the centre, taken while events are being raised, leave
    /// no gap in the sequence the centre sees.
    @Test func snapshotCommandsLeaveNoGapInSequenceNumbers() async throws {
        let rig = try await Rig(
            "unit-seq", telemetry: 1, arguments: ["--test-events", "30", "--test-event-interval", "40"])
        defer { rig.stop() }
        let prefix = rig.prefix
        // The camera starts after the uplink: snapshots need it running (telemetry counts its frames).
        let running = await rig.watcher.inbox.wait(timeout: 15) { messages in
            messages.contains { $0.topic == prefix + "telemetry" && ($0.json?["frames"]?.intValue ?? 0) > 0 }
        }
        #expect(running, "the camera never ran")
        for index in 0..<5 { try rig.send("snapshot", #"{"id":"s\#(index)"}"#) }
        let replyTopics = (0..<5).map { prefix + "reply/s\($0)" }
        let replied = await rig.watcher.inbox.wait(timeout: 20) { messages in
            replyTopics.allSatisfy { topic in messages.contains { $0.topic == topic } }
        }
        #expect(replied, "\(rig.daemon.output.suffix(2000))")
        var snapshots: [String] = []
        for topic in replyTopics {
            let reply = await rig.messages(on: topic).first?.json
            #expect(reply?["ok"] == .bool(true), "\(String(describing: reply))")
            if let topic = reply?["result"]?["topic"]?.stringValue { snapshots.append(topic) }
        }
        #expect(snapshots.count == 5)
        let snapshotTopics = snapshots

        // Every test event, every snapshot, and a sequence with no hole from 1 to the last event delivered (the
        // camera's own motion events take numbers too).
        @Sendable func sequence(_ messages: [Inbox.Received]) -> [Int] {
            messages.filter { $0.topic.hasPrefix(prefix + "event/") }.compactMap { $0.json?["seq"]?.intValue }
        }
        let complete = await rig.watcher.inbox.wait(timeout: 30) { messages in
            let seqs = Set(sequence(messages))
            return messages.filter { $0.topic == prefix + "event/test" }.count >= 30
                && snapshotTopics.allSatisfy { topic in messages.contains { $0.topic == topic } }
                && seqs == Set(1...(seqs.max() ?? 0))
        }
        let seqs = Set(sequence(await rig.watcher.inbox.messages))
        let missing = Set(1...(seqs.max() ?? 1)).subtracting(seqs).sorted()
        #expect(complete, "missing sequence numbers \(missing)\n\(rig.daemon.output.suffix(2000))")
        #expect(missing.isEmpty)
        #expect(seqs.count >= 30)
    }
}
