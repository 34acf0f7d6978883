import Foundation
import Testing
import VigieCore
import VigieImage
import VigieStore
import VigieUplink

/// Masks changed on a running unit reach the very next snapshot: `cmd/reload` with a mask moved elsewhere, then
/// `cmd/snapshot`, and the decoded picture is black where the new mask is and shows the scene where the old one was.
@Suite("Mask reload against a real broker", .serialized)
struct MaskReloadTests {
    /// Left and right halves of the upper image, a block inside the edges of the masks below.
    static let left = (x: 0.05...0.45, y: 0.05...0.45)
    static let right = (x: 0.55...0.95, y: 0.05...0.45)

    static func configuration(folder: URL, broker: Broker, mask: (x: ClosedRange<Double>, y: ClosedRange<Double>))
        -> String
    {
        let (x, y) = (mask.x, mask.y)
        return """
            [device]
            id = "reload-unit"

            [source]
            uri = "synthetic:"

            [[mask]]
            name = "window"
            points = [[\(x.lowerBound), \(y.lowerBound)], [\(x.upperBound), \(y.lowerBound)], [\(x.upperBound), \(y.upperBound)], [\(x.lowerBound), \(y.upperBound)]]

            [storage]
            state_dir = "\(folder.path)/state"

            [uplink]
            brokers = ["mqtt://127.0.0.1:\(broker.port)"]
            telemetry_interval = 60
            keepalive = 5
            """
    }

    /// Waits for the client behind `inbox` to be connected.
    static func connected(_ inbox: Inbox, timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if await inbox.connections > 0 { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// A broker, a scratch folder holding the unit's configuration with its mask on `mask`, and a subscriber to
    /// `topics` (under the unit's prefix), connected. The caller stops the broker and the watcher.
    static func start(_ name: String, mask: (x: ClosedRange<Double>, y: ClosedRange<Double>), topics: String)
        async throws -> (broker: Broker, folder: URL, file: URL, watcher: TestClient)
    {
        let broker = try Broker()
        try broker.start()
        var watcher: TestClient?
        do {
            let folder = try temporaryFolder(name)
            let file = folder.appendingPathComponent("vigie.toml")
            try configuration(folder: folder, broker: broker, mask: mask).write(
                to: file, atomically: true, encoding: .utf8)
            let client = try TestClient.subscriber(broker, topic: prefix + topics)
            watcher = client
            try #require(await connected(client.inbox), "the watcher did not connect")
            return (broker, folder, file, client)
        } catch {
            watcher?.stop()
            broker.stop()
            throw error
        }
    }

    static let prefix = "vigie/v1/reload-unit/"

    /// Mean luma of the decoded snapshot inside `area`, 16 pixels (a JPEG block) in from its edges, and the
    /// brightest pixel there.
    static func luma(_ image: DecodedJPEG, in area: (x: ClosedRange<Double>, y: ClosedRange<Double>)) -> (
        mean: Double, maximum: UInt8
    ) {
        var total = 0
        var count = 0
        var maximum: UInt8 = 0
        let xs = Int(area.x.lowerBound * Double(image.width)) + 16..<Int(area.x.upperBound * Double(image.width)) - 16
        let ys = Int(area.y.lowerBound * Double(image.height)) + 16..<Int(area.y.upperBound * Double(image.height)) - 16
        for y in ys {
            for x in xs {
                let value = image.luma(x: x, y: y)
                total += Int(value)
                count += 1
                maximum = max(maximum, value)
            }
        }
        return (Double(total) / Double(max(count, 1)), maximum)
    }

    @Test func maskChangeReachesTheNextSnapshot() async throws {
        let (broker, folder, file, watcher) = try await Self.start("reload", mask: Self.left, topics: "#")
        defer { broker.stop() }
        defer { watcher.stop() }
        let prefix = Self.prefix
        let inbox = watcher.inbox
        let daemon = try DaemonProcess(
            arguments: ["--config", file.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let online = await inbox.wait(timeout: 30) {
            $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
        }
        try #require(online, "no online status\n\(daemon.output)")
        let centre = try TestClient(MQTTClient.Options(clientID: "reload-centre", brokers: [broker.url]))
        defer { centre.stop() }
        try #require(await Self.connected(centre.inbox))

        func request(_ name: String, id: String) async throws -> JSONValue {
            try centre.client.publish(
                topic: prefix + "cmd/" + name, payload: Array(#"{"id":"\#(id)"}"#.utf8), qos: 1)
            #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/" + id } })
            return try #require(await inbox.messages.first { $0.topic == prefix + "reply/" + id }?.json)
        }
        func snapshot(id: String) async throws -> DecodedJPEG {
            let reply = try await request("snapshot", id: id)
            let topic = try #require(reply["result"]?["topic"]?.stringValue, "\(reply)")
            #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == topic } })
            let jpeg = try #require(await inbox.messages.first { $0.topic == topic }?.payload)
            return try JPEGDecoder().decode(jpeg)
        }

        let before = try await snapshot(id: "s1")
        #expect(Self.luma(before, in: Self.left).maximum <= 3, "the first mask hides the left")
        #expect(Self.luma(before, in: Self.right).mean > 40, "the right is the scene")

        try Self.configuration(folder: folder, broker: broker, mask: Self.right).write(
            to: file, atomically: true, encoding: .utf8)
        let reload = try await request("reload", id: "r1")
        #expect(reload["ok"] == .bool(true), "\(reload)")
        let after = try await snapshot(id: "s2")
        #expect(Self.luma(after, in: Self.right).maximum <= 3, "the new mask hides the right at once")
        #expect(Self.luma(after, in: Self.left).mean > 40, "the old mask is gone")
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "event/config_changed" } })
        // The change of what the camera hides is audited: sent to the centre and kept in the store.
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "event/mask_change" } })
        let audit = await inbox.messages.first { $0.topic == prefix + "event/mask_change" }?.json
        #expect(audit?["details"]?["user"]?.stringValue == "vigied")
        #expect(audit?["details"]?["reason"]?.stringValue == "reload")
        #expect(audit?["details"]?["masks"]?.stringValue == "1")
        let kept = await waitFor(timeout: 10) {
            ((try? EventStore(readingFrom: folder.path + "/state").audits().map(\.kind)) ?? []) == ["mask_change"]
        }
        #expect(kept)
        // A reload that leaves the masks as they are is no mask change.
        #expect(try await request("reload", id: "r2")["ok"] == .bool(true))
        // A self-test as a fence: its event is raised after anything the reload raised.
        _ = try await request("selftest", id: "fence")
        #expect(await inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "event/selftest" } })
        #expect(await inbox.messages.filter { $0.topic == prefix + "event/mask_change" }.count == 1)
    }

    /// Masks changed in the file while the unit was stopped: the next start audits it (`reason` `restart`); the
    /// first start of a unit only records its masks.
    @Test func maskChangeAcrossARestartIsAudited() async throws {
        let (broker, folder, file, watcher) = try await Self.start("restart-masks", mask: Self.left, topics: "event/#")
        defer { broker.stop() }
        defer { watcher.stop() }
        let prefix = Self.prefix
        let inbox = watcher.inbox
        let recorded = folder.path + "/state/" + MaskRecord.fileName
        let first = try DaemonProcess(
            arguments: ["--config", file.path], log: folder.appendingPathComponent("vigied-1.log"))
        let written = await waitFor(timeout: 30) { FileManager.default.fileExists(atPath: recorded) }
        try #require(written, "the masks are recorded at start\n\(first.output)")
        first.kill()

        try Self.configuration(folder: folder, broker: broker, mask: Self.right).write(
            to: file, atomically: true, encoding: .utf8)
        let second = try DaemonProcess(
            arguments: ["--config", file.path], log: folder.appendingPathComponent("vigied-2.log"))
        defer { second.kill() }
        let audited = await inbox.wait(timeout: 30) { $0.contains { $0.topic == prefix + "event/mask_change" } }
        try #require(audited, "no mask_change\n\(second.output)")
        let audit = await inbox.messages.filter { $0.topic == prefix + "event/mask_change" }
        #expect(audit.count == 1, "the first start only records")
        #expect(audit.first?.json?["details"]?["reason"]?.stringValue == "restart")
        #expect(audit.first?.json?["details"]?["redrawn"]?.stringValue == "window")
        // The new masks are recorded for the next start (just after the audit is raised).
        let rerecorded = await waitFor(timeout: 10) {
            let text = try? String(contentsOfFile: recorded, encoding: .utf8)
            return text.flatMap(MaskRecord.decode)?.polygons.first?.points.first?.x == Self.right.x.lowerBound
        }
        #expect(rerecorded)
    }
}
