import Foundation
import Synchronization
import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// vigied as systemd runs it: the notification socket (`Type=notify`, `WatchdogSec=`), SIGTERM, SIGHUP and the
/// journal's log format, against a real broker.
@Suite("Under systemd", .serialized)
struct SystemdTests {
    /// The socket systemd would listen on (`NOTIFY_SOCKET`): every datagram the daemon sends, with when.
    final class NotifySocket: @unchecked Sendable {
        let path: String
        private let descriptor: Int32
        private let received = Mutex<[(at: ContinuousClock.Instant, text: String)]>([])

        init(folder: URL) throws {
            path = folder.appendingPathComponent("notify.sock").path
            descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let socket = descriptor
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(socket, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = recv(socket, &buffer, buffer.count, 0)
                    guard count > 0 else { return }  // shut down
                    let text = String(decoding: buffer[..<count], as: UTF8.self)
                    received.withLock { $0.append((ContinuousClock.now, text)) }
                }
            }
        }

        /// Ends the reading thread.
        func stop() { shutdown(descriptor, Int32(SHUT_RDWR)) }

        var messages: [(at: ContinuousClock.Instant, text: String)] { received.withLock { $0 } }

        /// Lines with this prefix (`WATCHDOG=1`, `STATUS=`…), each message split into its lines.
        func lines(_ prefix: String, since: ContinuousClock.Instant? = nil) -> [String] {
            messages.filter { since == nil || $0.at >= since! }.flatMap { $0.text.split(separator: "\n") }
                .map(String.init).filter { $0.hasPrefix(prefix) }
        }
    }

    /// A Y4M source through a named pipe the test feeds: `frames` frames, then nothing (the pipe stays open, so
    /// the daemon's read blocks: a stalled source).
    final class StallingSource: @unchecked Sendable {
        let path: String
        let written = Atomic<Int>(0)
        private let keepOpen = Mutex<Int32>(-1)

        init(folder: URL, frames: Int) throws {
            path = folder.appendingPathComponent("camera.y4m").path
            guard mkfifo(path, 0o600) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EINVAL) }
            let path = self.path
            Thread.detachNewThread { [self] in
                let descriptor = open(path, O_WRONLY)  // until the daemon opens it
                guard descriptor >= 0 else { return }
                keepOpen.withLock { $0 = descriptor }
                let width = 160
                let height = 120
                func send(_ bytes: [UInt8]) -> Bool {
                    bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) == $0.count }
                }
                guard send(Array("YUV4MPEG2 W\(width) H\(height) F10:1 Ip A1:1 C420jpeg\n".utf8)) else { return }
                for index in 0..<frames {
                    let luma = [UInt8](repeating: UInt8(60 + index % 4), count: width * height)
                    let chroma = [UInt8](repeating: 128, count: width * height / 2)
                    guard send(Array("FRAME\n".utf8) + luma + chroma) else { return }
                    written.add(1, ordering: .relaxed)
                }
            }
        }

        /// Closes the pipe (the daemon then reads its end).
        func stop() { keepOpen.withLock { if $0 >= 0 { close($0) } } }
    }

    @Test func readyStatusAndWatchdogOnlyWhileFramesFlow() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("systemd-watchdog")
        let notify = try NotifySocket(folder: folder)
        defer { notify.stop() }
        let source = try StallingSource(folder: folder, frames: 40)
        defer { source.stop() }
        var configuration = try String(
            contentsOf: try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-sd"), encoding: .utf8)
        configuration = configuration.replacingOccurrences(
            of: "uri = \"synthetic:\"", with: "uri = \"y4m:\(source.path)\"\nfps = 10")
        let file = folder.appendingPathComponent("stall.toml")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let daemon = try DaemonProcess(
            arguments: ["--config", file.path], log: folder.appendingPathComponent("vigied.log"),
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        defer { daemon.kill() }

        let ready = await waitFor(timeout: 20) { !notify.lines("READY=1").isEmpty }
        try #require(ready, "no READY=1\n\(daemon.output.suffix(2000))")
        let pinged = await waitFor(timeout: 20) { notify.lines("WATCHDOG=1").count >= 2 }
        #expect(pinged, "no watchdog pings while frames flow\n\(daemon.output.suffix(2000))")
        #expect(notify.lines("STATUS=camera").contains { $0.contains("fps") && $0.contains("uplink") })

        // The source stalls: once the daemon has read what the pipe holds, the pings stop; the status goes on.
        let drained = await waitFor(timeout: 30) { source.written.load(ordering: .relaxed) == 40 }
        try #require(drained, "the daemon did not read the clip")
        // Stalled once two status lines in a row give the same number of frames (the pipe's last frames read).
        let settled = await waitFor(timeout: 20) {
            let counts = notify.lines("STATUS=camera").suffix(2).map { $0.split(separator: " ").dropFirst(3).first }
            return counts.count == 2 && counts[0] != nil && counts[0] == counts[1]
        }
        try #require(settled, "the frame count never settled: \(notify.lines("STATUS=").suffix(3))")
        let stalled = ContinuousClock.now
        try await Task.sleep(for: .seconds(4))
        #expect(notify.lines("WATCHDOG=1", since: stalled).isEmpty, "watchdog pings while no frame is processed")
        #expect(notify.lines("STATUS=", since: stalled).count >= 4, "the status loop stopped")

        // SIGTERM with the camera stuck in a read: the unit stops within its bound all the same, `offline` said.
        let status = try TestClient.subscriber(broker, topic: "vigie/v1/unit-sd/status", id: "centre-sd")
        defer { status.stop() }
        let asked = ContinuousClock.now
        #expect(daemon.terminate() == 0)
        let took = ContinuousClock.now - asked
        #expect(took < .seconds(14), "stopping took \(took)")
        #expect(notify.lines("STOPPING=1").count == 1)
        let offline = await status.inbox.wait(timeout: 10) { received in
            received.contains { $0.json?["state"]?.stringValue == "offline" }
        }
        #expect(offline, "no retained offline status\n\(daemon.output.suffix(2000))")
    }

    /// SIGHUP with a broken file: refused, the running configuration kept, an event says why; a good file then
    /// applies.
    @Test func reloadBySignalRefusesABadFileAndKeepsRunning() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("systemd-reload")
        let file = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-hup", telemetry: 3600)
        let good = try String(contentsOf: file, encoding: .utf8)
        let events = try TestClient.subscriber(broker, topic: "vigie/v1/unit-hup/event/#", id: "centre-hup")
        defer { events.stop() }
        #expect(await events.ready(probe: "vigie/v1/unit-hup/event/probe"))
        let daemon = try DaemonProcess(
            arguments: ["--config", file.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let online = try TestClient.subscriber(broker, topic: "vigie/v1/unit-hup/status", id: "centre-hup-status")
        defer { online.stop() }
        #expect(
            await online.inbox.wait(timeout: 20) { $0.contains { $0.json?["state"]?.stringValue == "online" } })

        try good.replacingOccurrences(of: "[[0.05, 0.05], [0.4, 0.05]", with: "[[0.05, 0.05], [1.4, 0.05]")
            .write(to: file, atomically: true, encoding: .utf8)
        kill(daemon.child.pid, SIGHUP)
        let refused = await events.inbox.wait(timeout: 15) { received in
            received.contains { $0.topic.hasSuffix("/config_refused") }
        }
        #expect(refused, "no config_refused event\n\(daemon.output.suffix(2000))")
        let reason = await events.inbox.messages.first { $0.topic.hasSuffix("/config_refused") }?
            .json?["details"]?["reason"]?.stringValue
        #expect(reason?.contains("mask") == true, "the reason names the mask: \(reason ?? "none")")
        #expect(daemon.child.poll() == nil, "the daemon stopped on a bad file")

        try good.write(to: file, atomically: true, encoding: .utf8)
        kill(daemon.child.pid, SIGHUP)
        let applied = await events.inbox.wait(timeout: 15) { received in
            received.contains { $0.topic.hasSuffix("/config_changed") }
        }
        #expect(applied, "no config_changed event\n\(daemon.output.suffix(2000))")
        let first = await events.inbox.messages.first { $0.topic.hasSuffix("/config_changed") }
        #expect(first?.json?["details"]?["restart_needed"] == nil, "nothing needs a restart")

        // A change only a restart applies is named as such (and not pretended applied).
        try good.replacingOccurrences(of: "keepalive = 5", with: "keepalive = 7")
            .replacingOccurrences(of: "id = \"unit-hup\"", with: "id = \"unit-hup-2\"")
            .write(to: file, atomically: true, encoding: .utf8)
        kill(daemon.child.pid, SIGHUP)
        let named = await events.inbox.wait(timeout: 15) { received in
            received.contains { $0.json?["details"]?["restart_needed"]?.stringValue == "device.id,uplink" }
        }
        #expect(named, "\(daemon.output.suffix(2000))")
        #expect(daemon.terminate() == 0)
    }

    /// With standard error on the journal (`JOURNAL_STREAM` naming it), each line carries its syslog priority.
    @Test func logLinesCarryTheirPriorityForTheJournal() async throws {
        let folder = try temporaryFolder("systemd-journal")
        let log = folder.appendingPathComponent("vigied.log")
        try #require(FileManager.default.createFile(atPath: log.path, contents: nil))
        var status = stat()
        try #require(stat(log.path, &status) == 0)
        let daemon = try DaemonProcess(
            arguments: ["--demo", "--state-dir", folder.appendingPathComponent("state").path, "--frames", "5"],
            log: log, environment: ["JOURNAL_STREAM": "\(status.st_dev):\(status.st_ino)"])
        #expect(await daemon.exitCode(within: 60) == 0, "\(daemon.output.suffix(2000))")
        let lines = daemon.output.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(line.range(of: #"^<[2-7]>vigied: "#, options: .regularExpression) != nil, "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("<6>vigied: camera started") })
    }
}
