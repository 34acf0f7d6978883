import Foundation
import Testing
import VigieCore
import VigieUplink

/// The client's size limit, against a real mosquitto: told to the broker in the MQTT 5 CONNECT (Maximum Packet
/// Size), and checked by the client itself when the broker could not be told (3.1.1).
@Suite("MQTT client: maximum packet size", .serialized)
struct MaximumPacketSizeTests {
    static func receiver(_ broker: Broker, _ choice: MQTTProtocolChoice) throws -> TestClient {
        var options = MQTTClient.Options(clientID: "limit-\(choice)", brokers: [broker.url])
        options.subscriptions = ["limits/#"]
        options.mqttProtocol = choice
        options.maximumPacketSize = 64 << 10
        return try TestClient(options)
    }

    @Test func limitIsToldToAnMQTT5BrokerAndCheckedOver311() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let modern = try Self.receiver(broker, .auto)
        defer { modern.stop() }
        let legacy = try Self.receiver(broker, .only(.v311))
        defer { legacy.stop() }
        var senderOptions = MQTTClient.Options(clientID: "limit-sender", brokers: [broker.url])
        senderOptions.mqttProtocol = .only(.v311)
        let sender = try TestClient(senderOptions)
        defer { sender.stop() }
        for client in [modern, legacy, sender] { #expect(await client.inbox.waitConnected(timeout: 10)) }
        #expect(await modern.inbox.versions == [.v5])
        #expect(await legacy.inbox.versions == [.v311])
        // The subscriptions go out right after CONNACK; the first small message proves they are in place.
        #expect(
            await Poll.until(timeout: .seconds(10)) {
                _ = try? sender.client.publish(topic: "limits/ready", payload: [1], qos: 0)
                let modernReady = await modern.inbox.messages.contains { $0.topic == "limits/ready" }
                let legacyReady = await legacy.inbox.messages.contains { $0.topic == "limits/ready" }
                return modernReady && legacyReady
            })

        let big = [UInt8](repeating: 0x42, count: 100_000)
        try sender.client.publish(topic: "limits/big", payload: big, qos: 1)
        try sender.client.publish(topic: "limits/fits", payload: [UInt8](repeating: 1, count: 60_000), qos: 1)
        try sender.client.publish(topic: "limits/after", payload: [2], qos: 1)
        for client in [modern, legacy] {
            #expect(await client.inbox.wait(timeout: 10) { $0.contains { $0.topic == "limits/after" } })
            let topics = await client.inbox.messages.map(\.topic)
            #expect(!topics.contains("limits/big"))
            #expect(topics.contains("limits/fits"), "a message under the limit arrives whole")
            #expect(await client.inbox.messages.first { $0.topic == "limits/fits" }?.payload.count == 60_000)
        }
        // MQTT 5: mosquitto knew the limit and never sent it. 3.1.1: it came, and the client dropped it uncopied.
        #expect(await modern.inbox.dropped.isEmpty)
        let dropped = await legacy.inbox.dropped
        #expect(dropped.map(\.topic) == ["limits/big"])
        #expect(dropped.first?.bytes == 100_000)
    }
}
