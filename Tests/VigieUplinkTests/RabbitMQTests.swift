import Foundation
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// Vigie against a broker that speaks MQTT 3.1.1 only: RabbitMQ 3.10's MQTT plugin, which closes the connection
/// on an MQTT 5 CONNECT. One broker for the whole suite (Erlang boots slowly); the tests run one after the other.
@Suite("Uplink against RabbitMQ (MQTT 3.1.1 only)", .serialized, .rabbitMQ)
struct RabbitMQTests {
    /// A client on the centre's side. It speaks 3.1.1 itself, so that what it sees does not rest on the fallback
    /// under test.
    static func centre(
        _ broker: RabbitMQ, subscriptions: [String], id: String = "centre-\(UUID().uuidString.prefix(8))",
        persistent: Bool = false
    ) throws -> TestClient {
        var options = MQTTClient.Options(clientID: id, brokers: [broker.url])
        options.mqttProtocol = .only(.v311)
        options.subscriptions = subscriptions
        options.cleanStart = !persistent
        options.maximumPacketSize = 16 << 20
        options.backoff = Backoff(initial: 0.2, maximum: 1, jitter: 0.1)
        return try TestClient(options)
    }

    @Sendable static func state(_ message: Inbox.Received?) -> String? { message?.json?["state"]?.stringValue }

    /// The `seq` of the events received, without duplicates.
    @Sendable static func sequence(_ messages: [Inbox.Received]) -> Set<Int> {
        Set(messages.compactMap { $0.json?["seq"]?.intValue })
    }

    @Test func clientFallsBackTo311AndFixedMQTT5NeverConnects() async throws {
        let broker = try #require(RabbitMQ.current)
        var options = MQTTClient.Options(clientID: "auto-\(UUID().uuidString.prefix(8))", brokers: [broker.url])
        options.backoff = Backoff(initial: 0.2, maximum: 1, jitter: 0.1)
        let auto = try TestClient(options)
        defer { auto.stop() }
        #expect(await auto.inbox.waitConnected(timeout: 20))
        #expect(await auto.inbox.versions == [.v311])
        let failures = await auto.inbox.failures
        #expect(failures.count == 1, "one MQTT 5 attempt, then 3.1.1: \(failures)")
        #expect(failures.first?.hasSuffix("trying MQTT 3.1.1") == true, "\(failures)")

        options.clientID = "fixed-\(UUID().uuidString.prefix(8))"
        options.mqttProtocol = .only(.v5)
        let fixed = try TestClient(options)
        defer { fixed.stop() }
        #expect(await Poll.until(timeout: .seconds(20)) { await fixed.inbox.failures.count >= 3 })
        #expect(await fixed.inbox.connections == 0)
        for reason in await fixed.inbox.failures {
            #expect(reason.contains("closed the connection without answering"), "\(reason)")
            #expect(reason.contains("protocol = \"auto\""), "the technician is told what to change: \(reason)")
        }
    }

    /// Status (retained birth, last will), events, telemetry and a command answered on `reply/<id>`, over 3.1.1
    /// after an MQTT 5 CONNECT that RabbitMQ dropped.
    @Test func unitFallsBackAndReportsAndAnswers() async throws {
        let broker = try #require(RabbitMQ.current)
        let folder = try temporaryFolder("rabbit-unit")
        let configuration = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-rmq")
        let prefix = "vigie/v1/unit-rmq/"
        // RabbitMQ 3.10 sends a retained message only to a subscription that names its topic exactly.
        let watcher = try Self.centre(broker, subscriptions: [prefix + "status", prefix + "#"])
        defer { watcher.stop() }
        #expect(await watcher.inbox.waitConnected(timeout: 20))
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "3"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let inbox = watcher.inbox

        let online = await inbox.wait(timeout: 60) {
            $0.contains { $0.topic == prefix + "status" && Self.state($0) == "online" }
        }
        #expect(online, "no online status\n\(daemon.output)")
        #expect(daemon.output.contains("protocol=MQTT 3.1.1"), "the log says which version\n\(daemon.output)")

        #expect(await inbox.wait(timeout: 30) { $0.filter { $0.topic == prefix + "event/test" }.count >= 3 })
        let sequence = await inbox.messages.filter { $0.topic == prefix + "event/test" }.compactMap {
            $0.json?["seq"]?.intValue
        }
        #expect(Set(sequence) == [1, 2, 3])

        let telemetry = await inbox.wait(timeout: 15) {
            $0.contains { $0.topic == prefix + "telemetry" && $0.json?["protocol"] == .string("3.1.1") }
        }
        #expect(telemetry, "telemetry says which version")

        // The birth message is retained: a subscriber arriving now gets it from the broker.
        let late = try Self.centre(broker, subscriptions: [prefix + "status"])
        defer { late.stop() }
        #expect(await late.inbox.wait(timeout: 15) { Self.state($0.last) == "online" })

        // A command over 3.1.1 (no response topic exists): the reply goes to reply/<id>.
        let centre = try Self.centre(broker, subscriptions: [])
        defer { centre.stop() }
        #expect(await centre.inbox.waitConnected(timeout: 15))
        try centre.client.publish(topic: prefix + "cmd/selftest", payload: Array(#"{"id":"rmq1"}"#.utf8), qos: 1)
        #expect(await inbox.wait(timeout: 15) { $0.contains { $0.topic == prefix + "reply/rmq1" } })
        let reply = try #require(await inbox.messages.first { $0.topic == prefix + "reply/rmq1" }?.json)
        #expect(reply["ok"] == .bool(true))
        #expect(reply["command"] == .string("selftest"))
        #expect(reply["result"]?["outbox"]?["ok"] == .bool(true))

        // SIGKILL: RabbitMQ publishes the last will, retained.
        daemon.kill()
        #expect(
            await inbox.wait(timeout: 30) { messages in
                Self.state(messages.last { $0.topic == prefix + "status" }) == "lost"
            }, "no last will")
        let afterwards = try Self.centre(broker, subscriptions: [prefix + "status"])
        defer { afterwards.stop() }
        #expect(await afterwards.inbox.wait(timeout: 15) { Self.state($0.last) == "lost" }, "the will is retained")
    }

    /// Events raised while RabbitMQ restarts are stored and delivered afterwards: every `seq` arrives.
    @Test func nothingIsLostAcrossARestart() async throws {
        let broker = try #require(RabbitMQ.current)
        let folder = try temporaryFolder("rabbit-restart")
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: "unit-rmq-restart", telemetry: 3600)
        let prefix = "vigie/v1/unit-rmq-restart/event/"
        // A session kept by the broker (a durable queue in RabbitMQ) across the restart and the reconnections.
        let subscriber = try Self.centre(
            broker, subscriptions: [prefix + "#"], id: "centre-rmq-restart", persistent: true)
        defer { subscriber.stop() }
        #expect(await subscriber.inbox.waitConnected(timeout: 20))
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "400", "--test-event-interval", "20"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        // Restart the broker once the flow is established, while events are still being raised.
        #expect(await subscriber.inbox.wait(timeout: 60) { Self.sequence($0).count >= 50 }, "\(daemon.output)")
        broker.stop()
        let atRestart = Self.sequence(await subscriber.inbox.messages).count
        let boot = try broker.start()
        print("RabbitMQ restarted in \(boot)")

        let raised = await Poll.until(timeout: .seconds(120), every: .milliseconds(100)) {
            daemon.output.contains("test events raised")
        }
        #expect(raised, "\(daemon.output.suffix(3000))")
        let outbox = try SQLiteOutbox(directory: folder.path + "/state")
        let last = Int(try outbox.lastSequence())
        #expect(last >= 400, "400 test events, and motion events of the synthetic camera")
        let complete = await subscriber.inbox.wait(timeout: 90) { Self.sequence($0).count >= last }
        #expect(complete)
        #expect(atRestart < last, "the restart happened while events were being raised")
        let missing = Set(1...max(1, last)).subtracting(Self.sequence(await subscriber.inbox.messages))
        #expect(missing.isEmpty, "\(missing.count) events lost, e.g. \(missing.sorted().prefix(10))")
        let late = await subscriber.inbox.messages.filter { $0.json?["historical"] == .bool(true) }.count
        #expect(late > 0, "events raised during the restart waited in the outbox")
        #expect(daemon.terminate() == 0)
        #expect(try outbox.count() == 0, "the outbox drained\n\(daemon.output.suffix(3000))")
    }
}
