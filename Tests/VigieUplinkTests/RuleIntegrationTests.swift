import Foundation
import Testing
import VigieCore
import VigieImage
import VigieStore

/// The rules' alerts from vigied, run as a separate process on its synthetic street (a walker crossing the lower
/// part of the image every 8 s, left to right from 2 s, right to left from 10 s), to a real broker: each reaches
/// the centre as `event/<kind>` with its zone or line, and its masked snapshot follows; each is kept in the event
/// store; the zone's and the line's warnings sound on the unit's speaker (a WAV file here).
@Suite("Rule alerts against a real broker", .serialized)
struct RuleIntegrationTests {
    @Test func intrusionCrossingAndWrongWayReachTheCentreWithTheirSnapshotsAndWarnings() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("rules")
        let prefix = "vigie/v1/unit-rules/"
        let watcher = try TestClient.subscriber(broker, topic: "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: "test/probe"))
        // The walker's feet are at y 0.87. The line stands across its path: left to right is the way allowed.
        let (speaker, audioFile) = try SpeakerIntegrationTests.speakerSection()
        let rules =
            speaker + """

                [[zone]]
                name = "pavement"
                kind = "intrusion"
                points = [[0.0, 0.7], [1.0, 0.7], [1.0, 1.0], [0.0, 1.0]]
                min_area = 0.005
                dwell = 1
                say = "Attention, zone surveillée."

                [[zone]]
                name = "roof"
                kind = "intrusion"
                points = [[0.9, 0.0], [1.0, 0.0], [1.0, 0.1], [0.9, 0.1]]
                play = "not-on-this-unit"

                [[line]]
                name = "gate"
                from = [0.5, 0.5]
                to = [0.5, 1.0]
                direction = "left_to_right"
                play = "attention"
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

        // The warnings sounded, with the rule's priority: the zone's sentence once (the second walker comes within
        // the zone's re-arm time, and a later intrusion would fall within the speaker's cool-down), the line's clip on
        // the wrong way only, not on the allowed crossing.
        @Sendable func announcements(_ messages: [Inbox.Received], _ why: String) -> [JSONValue] {
            messages.filter { $0.topic == prefix + "event/announcement" }.compactMap(\.json)
                .filter { $0["details"]?["why"]?.stringValue == why }
        }
        #expect(
            await watcher.inbox.wait(timeout: 15) {
                !announcements($0, "rule:zone:pavement").isEmpty && !announcements($0, "rule:line:gate").isEmpty
            }, "\(daemon.output)")
        let messages = await watcher.inbox.messages
        let zoneWarning = announcements(messages, "rule:zone:pavement")
        #expect(zoneWarning.count == 1)
        #expect(zoneWarning.first?["details"]?["text"]?.stringValue == "Attention, zone surveillée.")
        #expect(zoneWarning.first?["details"]?["priority"]?.stringValue == "rule")
        let lineWarning = announcements(messages, "rule:line:gate")
        #expect(lineWarning.count == 1)
        #expect(lineWarning.first?["details"]?["clip"]?.stringValue == "attention")
        // Sounded for the wrong way: its announcement comes after the wrong_way alert (the allowed crossing, 8 s
        // before it, would have come first).
        let lineAnnounced = messages.firstIndex {
            $0.topic == prefix + "event/announcement" && $0.json?["details"]?["why"]?.stringValue == "rule:line:gate"
        }
        let wrongWayRaised = messages.firstIndex { $0.topic == wrongWay }
        #expect(
            (lineAnnounced ?? -1) > (wrongWayRaised ?? Int.max),
            "\(String(describing: lineAnnounced)) \(String(describing: wrongWayRaised))")

        // A clip missing from clips_dir is told at start; one dropped in since and named by a reload, too (clips are
        // read at start: it cannot sound before a restart).
        #expect(daemon.output.contains("rule warning will not sound") && daemon.output.contains("not-on-this-unit"))
        try Data(WAV.encode(PCMAudio.tone(frequency: 440, seconds: 0.2, sampleRate: 16000))).write(
            to: audioFile.deletingLastPathComponent().appendingPathComponent("clips/added-later.wav"))
        let text = try String(contentsOf: configuration, encoding: .utf8)
        try text.replacingOccurrences(of: "not-on-this-unit", with: "added-later").write(
            to: configuration, atomically: true, encoding: .utf8)
        kill(daemon.child.pid, SIGHUP)
        #expect(
            await waitFor(timeout: 10) {
                daemon.output.contains("configuration reloaded") && daemon.output.contains("clip 'added-later'")
            }, "\(daemon.output)")

        // And the store kept them, with the ids the centre received.
        _ = daemon.terminate()
        let store = try EventStore(readingFrom: folder.path + "/state")
        let stored = try store.events(EventFilter(kinds: ["intrusion", "line_crossing", "wrong_way"]))
        let received = [intrusion, crossing, wrong].compactMap { $0["id"]?.stringValue }
        #expect(Set(received).isSubset(of: Set(stored.map(\.id))), "\(stored.map(\.kind))")
    }
}
