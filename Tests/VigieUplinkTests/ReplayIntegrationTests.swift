import Foundation
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// The event store against a real broker, with vigied run as a separate process: a centre that lost events on its
/// side fills the gap with `cmd/replay`, and an operator's verdict is recorded with the alert.
@Suite("Replay and verdicts against a real broker", .serialized)
struct ReplayIntegrationTests {
    @Test func aCentreThatLostEventsFillsTheGap() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("replay")
        let prefix = "vigie/v1/unit-replay/"
        let watcher = try TestClient.subscriber(broker, topic: "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: "test/probe"))
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: "unit-replay", telemetry: 3600)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path, "--test-events", "12"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let tests = prefix + "event/test"
        #expect(
            await watcher.inbox.wait(timeout: 60) { $0.filter { $0.topic == tests }.count >= 12 }, "\(daemon.output)")
        let first = await watcher.inbox.messages.filter { $0.topic == tests }
        let sequences = first.compactMap { $0.json?["seq"]?.intValue }.sorted()
        #expect(sequences.count == 12 && Set(sequences).count == 12)
        // The centre "loses" four of them in the middle: it sees a gap in the sequence numbers.
        let lost = Array(sequences[4..<8])
        let kept = first.filter { !lost.contains($0.json?["seq"]?.intValue ?? -1) }
        let keptSequences = kept.compactMap { $0.json?["seq"]?.intValue }.sorted()
        let gap = zip(keptSequences, keptSequences.dropFirst()).first { $1 - $0 > 1 }
        let (from, to) = try #require(gap.map { ($0.0 + 1, $0.1 - 1) })
        #expect(Array(from...to) == lost)

        func send(_ name: String, _ payload: String) throws {
            try watcher.client.publish(topic: prefix + "cmd/" + name, payload: Array(payload.utf8), qos: 1)
        }
        func reply(_ id: String) async -> JSONValue? {
            _ = await watcher.inbox.wait(timeout: 20) { $0.contains { $0.topic == prefix + "reply/" + id } }
            return await watcher.inbox.messages.first { $0.topic == prefix + "reply/" + id }?.json
        }
        // Malformed or too large: an error reply, nothing sent again.
        try send("replay", #"{"id":"bad1","from_seq":\#(from)}"#)
        try send("replay", #"{"id":"bad2","from_seq":1,"to_seq":5000}"#)
        #expect(await reply("bad1")?["error"]?["code"]?.stringValue == "missing_field")
        #expect(await reply("bad2")?["error"]?["code"]?.stringValue == "range_too_large")

        try send("replay", #"{"id":"fill","from_seq":\#(from),"to_seq":\#(to)}"#)
        let answer = await reply("fill")
        #expect(answer?["ok"] == .bool(true), "\(daemon.output)")
        #expect(answer?["result"]?["events"]?.intValue == lost.count)
        #expect(answer?["result"]?["missing"]?.intValue == 0)
        let replayed = await watcher.inbox.wait(timeout: 20) { messages in
            messages.filter { $0.topic == tests && $0.json?["historical"] == .bool(true) }.count >= lost.count
        }
        #expect(replayed)
        let historical = await watcher.inbox.messages.filter {
            $0.topic == tests && $0.json?["historical"] == .bool(true)
        }
        // Exactly the lost ones, with their own ids and numbers: the centre's record is whole again.
        #expect(historical.compactMap { $0.json?["seq"]?.intValue }.sorted() == lost)
        let originalIDs = Set(
            first.filter { lost.contains($0.json?["seq"]?.intValue ?? -1) }.compactMap { $0.json?["id"]?.stringValue })
        #expect(Set(historical.compactMap { $0.json?["id"]?.stringValue }) == originalIDs)
        let whole = (keptSequences + historical.compactMap { $0.json?["seq"]?.intValue }).sorted()
        #expect(whole == sequences)

        // An operator's verdict on one of them is recorded with it; an unknown event is refused.
        let decided = try #require(originalIDs.sorted().first)
        try send("alert_confirm", #"{"id":"v1","event":"\#(decided)","operator":"agent 12","note":"seen"}"#)
        try send("alert_dismiss", #"{"id":"v2","event":"01ZZZZZZZZZZZZZZZZZZZZZZZZ","operator":"agent 12"}"#)
        #expect(await reply("v1")?["ok"] == .bool(true))
        #expect(await reply("v2")?["error"]?["code"]?.stringValue == "unknown_event")
        let store = try EventStore(readingFrom: folder.path + "/state")
        let stored = try store.events(EventFilter(kinds: ["test"]))
        #expect(stored.count == 12)
        let verdict = stored.first { $0.id == decided }?.verdict
        #expect(verdict?.confirmed == true && verdict?.operatorName == "agent 12" && verdict?.note == "seen")
        #expect(stored.filter { $0.verdict != nil }.count == 1)
    }
}
