import Foundation
import Testing
import VigieCore
import VigieImage
import VigieStore

/// The rules' alerts from vigied, run as a separate process on its synthetic street (a walker crossing the lower
/// part of the image every 8 s, left to right from 2 s, right to left from 10 s), to a real broker: each reaches
/// the centre as `event/<kind>` with its zone or line, and its masked snapshot follows; each is kept in the event
/// store.
@Suite("Rule alerts against a real broker", .serialized)
struct RuleIntegrationTests {
    @Test func intrusionCrossingAndWrongWayReachTheCentreWithTheirSnapshots() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("rules")
        let prefix = "vigie/v1/unit-rules/"
        let watcher = try TestClient.subscriber(broker, topic: "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: "test/probe"))
        // The walker's feet are at y 0.87. The line stands across its path: left to right is the way allowed.
        let rules = """

            [[zone]]
            name = "pavement"
            kind = "intrusion"
            points = [[0.0, 0.7], [1.0, 0.7], [1.0, 1.0], [0.0, 1.0]]
            min_area = 0.005
            dwell = 1

            [[line]]
            name = "gate"
            from = [0.5, 0.5]
            to = [0.5, 1.0]
            direction = "left_to_right"
            """
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: "unit-rules", telemetry: 3600, uplink: rules)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        func events(_ kind: String) async -> [Inbox.Received] {
            await watcher.inbox.messages.filter { $0.topic == prefix + "event/" + kind }
        }
        let wrongWay = prefix + "event/wrong_way"
        // The second walker crosses the middle about 12.5 s after the stream starts.
        #expect(
            await watcher.inbox.wait(timeout: 40) { $0.contains { $0.topic == wrongWay } }, "\(daemon.output)")

        let intrusion = try #require(await events("intrusion").first?.json)
        #expect(intrusion["zone"]?.stringValue == "pavement")
        #expect(intrusion["priority"]?.intValue == Priority.alert)
        #expect(intrusion["details"]?["rule"]?.stringValue == "pavement")
        let crossing = try #require(await events("line_crossing").first?.json)
        #expect(crossing["details"]?["line"]?.stringValue == "gate")
        #expect(crossing["details"]?["direction"]?.stringValue == "left_to_right")
        let wrong = try #require(await events("wrong_way").first?.json)
        #expect(wrong["details"]?["line"]?.stringValue == "gate")
        #expect(wrong["details"]?["direction"]?.stringValue == "right_to_left")
        let counts = (await events("line_crossing").count, await events("wrong_way").count)
        #expect(counts == (1, 1))

        // Each alert's masked snapshot follows on the topic it names.
        for alert in [intrusion, crossing, wrong] {
            let topic = try #require(alert["snapshot"]?["topic"]?.stringValue)
            #expect(await watcher.inbox.wait(timeout: 10) { $0.contains { $0.topic == topic } })
            let jpeg = await watcher.inbox.messages.first { $0.topic == topic }?.payload ?? []
            // The unit's mask (a window, upper left) is black in it; the street below is not.
            let image = try JPEGDecoder().decode(jpeg)
            #expect(MaskReloadTests.luma(image, in: (x: 0.05...0.4, y: 0.05...0.45)).maximum <= 3, "\(topic)")
            #expect(MaskReloadTests.luma(image, in: (x: 0.5...0.95, y: 0.5...0.95)).mean > 20, "\(topic)")
        }

        // And the store kept them, with the ids the centre received.
        _ = daemon.terminate()
        let store = try EventStore(readingFrom: folder.path + "/state")
        let stored = try store.events(EventFilter(kinds: ["intrusion", "line_crossing", "wrong_way"]))
        let received = [intrusion, crossing, wrong].compactMap { $0["id"]?.stringValue }
        #expect(Set(received).isSubset(of: Set(stored.map(\.id))), "\(stored.map(\.kind))")
    }
}
