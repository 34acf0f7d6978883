import Foundation
import Testing
import VigieCore

/// SIGHUP, which `systemctl reload vigied` sends (the unit's `ExecReload=`), against vigied run as a separate process.
@Suite("SIGHUP reloads the configuration", .serialized)
struct HangupReloadTests {
    /// A valid file is applied and told to the centre (`config_changed`); an invalid one is refused with its errors
    /// and the unit runs on with the configuration it had. SIGHUP never stops the daemon: for systemd it is a clean
    /// end, which `Restart=on-failure` would not restart.
    @Test func hangupReloadsAndRefusesABadFile() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("hup")
        let watcher = try TestClient.subscriber(broker, topic: "#")
        defer { watcher.stop() }
        #expect(await watcher.ready(probe: "test/probe"), "the watcher's subscription never worked")
        let configuration = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-hup", telemetry: 3600)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let prefix = "vigie/v1/unit-hup/"
        let online = await watcher.inbox.wait(timeout: 30) {
            $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
        }
        try #require(online, "no online status\n\(daemon.output)")

        kill(daemon.child.pid, SIGHUP)
        let changed = await watcher.inbox.wait(timeout: 15) {
            $0.contains { $0.topic == prefix + "event/config_changed" }
        }
        #expect(changed, "no config_changed event\n\(daemon.output)")
        #expect(daemon.output.contains("configuration reloaded"))

        let text = try String(contentsOf: configuration, encoding: .utf8)
        try (text + "\n[snapshot]\nquality = 500\n").write(to: configuration, atomically: true, encoding: .utf8)
        kill(daemon.child.pid, SIGHUP)
        #expect(await Poll.until(timeout: .seconds(10)) { daemon.output.contains("configuration refused") })
        #expect(daemon.output.contains("snapshot.quality"), "the error names the key\n\(daemon.output)")

        // A fence: a command answered after the refusal shows the unit still runs, and no second change was told.
        try watcher.client.publish(topic: prefix + "cmd/selftest", payload: Array(#"{"id":"fence"}"#.utf8), qos: 1)
        #expect(await watcher.inbox.wait(timeout: 15) { $0.contains { $0.topic == prefix + "reply/fence" } })
        let changes = await watcher.inbox.messages.filter { $0.topic == prefix + "event/config_changed" }
        #expect(changes.count == 1)
        #expect(daemon.child.poll() == nil, "vigied ended on SIGHUP\n\(daemon.output)")
        #expect(daemon.terminate() == 0)
    }
}
