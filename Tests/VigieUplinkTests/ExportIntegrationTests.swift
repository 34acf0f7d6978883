import Foundation
import Testing
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

/// `vigie export` against a running vigied: the audit record is kept in the store and sent to the centre before
/// anything is written; without the daemon nothing is written at all.
@Suite("Export and audit against a real broker", .serialized)
struct ExportIntegrationTests {
    @Test func anExportLeavesAnAuditRecordKeptAndSent() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("export")
        let prefix = "vigie/v1/unit-export/"
        let watcher = try TestClient.subscriber(broker, topic: "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: "test/probe"))
        let file = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-export", telemetry: 3600)
        let socket = folder.appendingPathComponent("control.sock").path
        let state = folder.path + "/state"
        let output = folder.path + "/requisition-42"

        // No daemon yet: refused, nothing written.
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        _ = try EventStore(directory: state)
        let refused = try ControlTests.vigie(
            "export", "--since", "1h", "--reason", "réquisition 42", "--output", output, "--state-dir", state,
            "--socket", socket)
        #expect(refused.status != 0)
        #expect(refused.errors.contains("audit record could not be made"), "\(refused.errors)")
        #expect(access(output, F_OK) != 0, "nothing written")

        let daemon = try DaemonProcess(
            arguments: ["--config", file.path, "--control-socket", socket, "--test-events", "5"],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let tests = prefix + "event/test"
        #expect(
            await watcher.inbox.wait(timeout: 60) { $0.filter { $0.topic == tests }.count >= 5 }, "\(daemon.output)")
        let stored = await waitFor(timeout: 10) {
            ((try? EventStore(readingFrom: state).events(EventFilter(kinds: ["test"])).count) ?? 0) >= 5
        }
        #expect(stored)
        // Two events with pictures put in behind the daemon's back, as a damaged or tampered card could hold them:
        // one whose id cannot name a file (it would write outside the export).
        let safe = "01TESTSAFE0000000000000000"
        let escape = "../../escape"
        let millis = Int64(Date().timeIntervalSince1970 * 1000) - 1000
        try SQLiteShell.execute(
            state + "/" + EventStore.fileName,
            """
            INSERT INTO events (id, time_ms, kind, priority, payload, snapshot_bytes) VALUES
                ('\(safe)', \(millis), 'test', 50, CAST('{"id":"\(safe)","kind":"test"}' AS BLOB), 4),
                ('\(escape)', \(millis), 'test', 50, CAST('{"id":"\(escape)","kind":"test"}' AS BLOB), 4);
            INSERT INTO snapshots (event, jpeg) SELECT row, X'FFD8FFD9' FROM events WHERE id IN ('\(safe)', '\(escape)');
            """)

        let exported = try ControlTests.vigie(
            "export", "--since", "1h", "--reason", "réquisition 42", "--output", output, "--state-dir", state,
            "--socket", socket, "--json")
        #expect(exported.status == 0, "\(exported.errors)")
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        let audit = try JSON.parse(Array(try String(contentsOfFile: output + "/audit.json", encoding: .utf8).utf8))
        #expect(audit["user"]?.stringValue == user)
        #expect(audit["reason"]?.stringValue == "réquisition 42")
        let lines = try String(contentsOfFile: output + "/events.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(audit["events"]?.intValue == lines.count)
        #expect(lines.filter { $0.contains(#""kind":"test""#) }.count == 7)
        // The safe one's picture is written; the other is left out, counted, and nothing lands outside the export.
        #expect(audit["snapshots"]?.intValue == 1 && audit["snapshots_left_out"]?.intValue == 1, "\(audit)")
        #expect(
            try Data(contentsOf: URL(fileURLWithPath: output + "/snapshots/\(safe).jpg"))
                == Data([0xFF, 0xD8, 0xFF, 0xD9]))
        #expect(access(folder.path + "/escape.jpg", F_OK) != 0 && access(output + "/escape.jpg", F_OK) != 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: output + "/snapshots") == ["\(safe).jpg"])
        // Sent to the centre as an `export` event, and kept in the store.
        let sent = await watcher.inbox.wait(timeout: 20) { $0.contains { $0.topic == prefix + "event/export" } }
        #expect(sent)
        let event = await watcher.inbox.messages.first { $0.topic == prefix + "event/export" }?.json
        #expect(event?["details"]?["user"]?.stringValue == user)
        #expect(event?["details"]?["reason"]?.stringValue == "réquisition 42")
        #expect(
            event?["details"]?["events"]?.intValue == nil
                && event?["details"]?["events"]?.stringValue == "\(lines.count)")
        #expect(event?["id"]?.stringValue == audit["event"]?.stringValue)
        let audits = try EventStore(readingFrom: state).audits()
        #expect(audits.map(\.kind) == ["export"])
        #expect(audits.first?.user == user && audits.first?.event == audit["event"]?.stringValue)
        // A second export into the same, now full, folder is refused.
        let again = try ControlTests.vigie(
            "export", "--since", "1h", "--reason", "again", "--output", output, "--state-dir", state, "--socket", socket
        )
        #expect(again.status != 0 && again.errors.contains("not empty"))
    }
}
