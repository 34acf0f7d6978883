import Foundation
import Logging
import Synchronization
import Testing
import VigieCore
import VigieStore
import VigieUplink

/// What a log handler received, for tests of what the unit tells its technician.
final class LogRecorder: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
    }

    let records = Mutex<[Record]>([])

    var logger: Logger { Logger(label: "test") { _ in Handler(recorder: self) } }

    func count(_ level: Logger.Level, containing text: String) -> Int {
        records.withLock { $0.filter { $0.level == level && $0.message.contains(text) }.count }
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.records.withLock { $0.append(Record(level: event.level, message: event.message.description)) }
        }
    }
}

/// The uplink service in this process, with a real SQLite outbox (and a real broker where one is needed).
@Suite("Uplink service")
struct UplinkServiceTests {
    static let identity = UplinkService.Identity(
        deviceID: "unit-svc", role: "pole", board: "test", firmware: "test", capabilities: [])

    /// The event store hears of every numbered event with its id, number and payload as sent, those raised before
    /// it listened (the uplink's reports at its start) included; a replay re-sends without a new number.
    @Test func everyNumberedEventIsToldToTheStore() throws {
        let folder = try temporaryFolder("svc-raised")
        var settings = UplinkSettings()
        settings.brokers = [BrokerURL("mqtt://127.0.0.1:1")!]
        let uplink = try Self.service(settings, folder: folder, logger: LogRecorder().logger)
        let early = uplink.raise(UplinkEvent(kind: "camera_lost", priority: Priority.fault))
        let told = Mutex<[(kind: String, raised: RaisedEvent)]>([])
        uplink.observeRaised { event, raised in told.withLock { $0.append((event.kind, raised)) } }
        let late = uplink.raise(UplinkEvent(kind: "motion", zone: "gate"))
        uplink.resend(payload: told.withLock { $0[0].raised.payload }, kind: "camera_lost", priority: 40, snapshot: nil)
        let seen = told.withLock { $0 }
        #expect(seen.map(\.kind) == ["camera_lost", "motion"])
        #expect(seen.map(\.raised.id) == [early, late])
        #expect(seen.map(\.raised.sequence) == [1, 2])
        let payload = try JSON.parse(seen[1].raised.payload)
        #expect(payload["id"]?.stringValue == late && payload["seq"]?.intValue == 2)
        #expect(payload["zone"]?.stringValue == "gate" && payload["historical"] == nil)
    }

    static func service(_ settings: UplinkSettings, folder: URL, logger: Logger) throws -> UplinkService {
        try UplinkService(
            identity: identity, settings: settings, outbox: SQLiteOutbox(directory: folder.path), logger: logger)
    }

    /// `verify_hostname = false` is a warning at every start, and nothing is said when it is on.
    @Test func hostnameCheckTurnedOffIsAWarningAtEveryStart() async throws {
        let folder = try temporaryFolder("verify")
        let recorder = LogRecorder()
        var settings = UplinkSettings()
        settings.brokers = [BrokerURL("mqtt://127.0.0.1:1")!]
        for (start, verify) in [(1, false), (2, false), (3, true)] {
            settings.verifyHostname = verify
            let uplink = try Self.service(settings, folder: folder, logger: recorder.logger)
            let running = Task { await uplink.run() }
            // The service tries to connect only after the warning: a connection failure shows it has started.
            #expect(
                await waitFor(timeout: 10) { recorder.count(.warning, containing: "uplink cannot connect") >= start })
            running.cancel()
            await uplink.shutdown(drain: 0)
        }
        #expect(recorder.count(.warning, containing: "verify_hostname = false") == 2)
    }

    /// A full outbox drops low-priority items to make room and says so in an `outbox_overflow` event (fault
    /// priority, with how many and which kinds), raised through the same path as every event; no emergency is
    /// dropped, and a second drop soon after waits for the next report.
    @Test func fullOutboxReportsWhatItDropped() async throws {
        let folder = try temporaryFolder("overflow")
        var settings = UplinkSettings()
        settings.brokers = [BrokerURL("mqtt://127.0.0.1:1")!]
        let outbox = try SQLiteOutbox(directory: folder.path, maximumItems: 5, maximumBytes: 1 << 20)
        let uplink = try UplinkService(
            identity: Self.identity, settings: settings, outbox: outbox, logger: LogRecorder().logger)
        for _ in 0..<4 { uplink.raise(UplinkEvent(kind: "motion_end", priority: Priority.routine)) }
        uplink.raise(UplinkEvent(kind: "call", priority: Priority.emergency))
        uplink.raise(UplinkEvent(kind: "motion", priority: Priority.alert, snapshot: [0xFF, 0xD8, 0xFF, 0xD9]))
        // The report is raised once the drops are committed, and committed in turn.
        let reported = await waitFor(timeout: 10) {
            ((try? outbox.pending(limit: 100)) ?? []).contains { $0.item.topic.hasSuffix("event/outbox_overflow") }
        }
        #expect(reported)
        #expect(await uplink.flush())
        let reports = try outbox.pending(limit: 100).filter {
            $0.item.topic == "vigie/v1/unit-svc/event/outbox_overflow"
        }
        #expect(reports.count == 1)
        let report = try JSON.parse(try #require(reports.first).item.payload)
        #expect(report["kind"] == .string("outbox_overflow"))
        #expect(report["priority"]?.intValue == Priority.fault)
        #expect(report["details"]?["dropped"] == .string("2"))
        #expect(report["details"]?["dropped_motion_end"] == .string("2"))
        #expect(report["seq"]?.intValue == 7, "an event like any other: the next sequence number")
        let left = try outbox.pending(limit: 100)
        #expect(left.contains { $0.item.topic.hasSuffix("event/call") })
        #expect(left.count == 5)

        // Within the minute, more drops are counted but not yet reported.
        uplink.raise(UplinkEvent(kind: "motion", priority: Priority.alert))
        #expect(await uplink.flush())
        #expect(try outbox.pending(limit: 100).filter { $0.item.topic.hasSuffix("outbox_overflow") }.count == 1)
        await uplink.shutdown(drain: 0)
    }

    /// Commands beyond the bound of commands in progress are answered `busy` at once and never run; once the
    /// running ones finish, commands run again.
    @Test func commandsBeyondTheQueueAreAnsweredBusy() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        var settings = UplinkSettings()
        settings.brokers = [broker.url]
        settings.commandQueue = 4
        settings.commandBurst = 100
        let uplink = try Self.service(settings, folder: try temporaryFolder("busy"), logger: LogRecorder().logger)
        let hold = Hold()
        await uplink.configure(
            commands: { request in
                await hold.enter()
                return CommandReply.ok(requestID: request.requestID, command: request.command.name)
            }, telemetry: { TelemetrySample() })
        let running = Task { await uplink.run() }
        defer { running.cancel() }
        let centre = try TestClient.subscriber(broker, topic: "vigie/v1/unit-svc/reply/#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: "vigie/v1/unit-svc/reply/probe"))
        #expect(await waitFor(timeout: 15) { await uplink.isConnected })
        func send(_ id: String) throws {
            try centre.client.publish(
                topic: "vigie/v1/unit-svc/cmd/snapshot", payload: Array(#"{"id":"\#(id)"}"#.utf8), qos: 1)
        }
        for index in 0..<10 { try send("b\(index)") }
        let busy = (4..<10).map { "vigie/v1/unit-svc/reply/b\($0)" }
        #expect(
            await centre.inbox.wait(timeout: 15) { messages in
                busy.allSatisfy { t in messages.contains { $0.topic == t } }
            })
        #expect(await hold.entered == 4, "only the first four run")
        for topic in busy {
            let reply = await centre.inbox.messages.first { $0.topic == topic }?.json
            #expect(reply?["error"]?["code"] == .string("busy"))
        }
        #expect(await centre.inbox.messages.filter { $0.json?["ok"] == .bool(true) }.isEmpty)
        // The queue is full, but a call command has places of its own: it runs.
        try centre.client.publish(topic: "vigie/v1/unit-svc/cmd/call_end", payload: Array(#"{"id":"c"}"#.utf8), qos: 1)
        #expect(await waitFor(timeout: 15) { await hold.entered == 5 }, "call_end runs beside four snapshots")

        await hold.open()
        let first = (0..<4).map { "vigie/v1/unit-svc/reply/b\($0)" }
        #expect(
            await centre.inbox.wait(timeout: 15) { messages in
                first.allSatisfy { t in messages.contains { $0.topic == t } }
            })
        try send("after")
        #expect(
            await centre.inbox.wait(timeout: 15) {
                $0.contains { $0.topic == "vigie/v1/unit-svc/reply/after" && $0.json?["ok"] == .bool(true) }
            })
        #expect(await centre.inbox.messages.contains { $0.topic.hasSuffix("reply/c") && $0.json?["ok"] == .bool(true) })
        #expect(await hold.entered == 6)
        await uplink.shutdown(drain: 0)
    }
}

/// Commands wait here until the test opens it.
actor Hold {
    private(set) var entered = 0
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        entered += 1
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        for continuation in waiting { continuation.resume() }
        waiting = []
    }
}
