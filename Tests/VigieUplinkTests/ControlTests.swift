import Foundation
import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The technician's view: `vigie status` and `vigie doctor` against a real vigied over its control socket, and
/// the control protocol's limits.
@Suite("Control socket and technician CLI", .serialized)
struct ControlTests {
    struct Outcome {
        var status: Int32
        var output: String
        var errors: String
        var json: JSONValue? { try? JSON.parse(output) }
    }

    /// Runs the `vigie` CLI as a technician would.
    static func vigie(_ arguments: String...) throws -> Outcome {
        let process = Process()
        process.executableURL = productsFolder().appendingPathComponent("vigie")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, output: String(decoding: out, as: UTF8.self),
            errors: String(decoding: err, as: UTF8.self))
    }

    /// The named check of a `doctor --json` reply.
    static func check(_ reply: JSONValue?, _ name: String) -> JSONValue? {
        reply?["checks"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    @Test func statusAndDoctorFollowTheUnit() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("control")
        let file = try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-ctl", telemetry: 3600)
        let socket = folder.appendingPathComponent("control.sock").path
        let daemon = try DaemonProcess(
            arguments: ["--config", file.path, "--control-socket", socket],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }

        var status = Outcome(status: -1, output: "", errors: "")
        let running = await waitFor(timeout: 30) {
            status = (try? Self.vigie("status", "--json", "--socket", socket)) ?? status
            return status.json?["camera"]?["state"]?.stringValue == "streaming"
                && (status.json?["camera"]?["fps"]?.numberValue ?? 0) > 0
                && status.json?["uplink"]?["state"]?.stringValue == "connected"
        }
        try #require(running, "status: \(status.output) \(status.errors)\n\(daemon.output.suffix(2000))")
        #expect(status.status == 0)
        let reply = try #require(status.json)
        #expect(reply["device"]?.stringValue == "unit-ctl")
        #expect(reply["role"]?.stringValue == "pole")
        #expect(reply["camera"]?["masks"]?.intValue == 1)
        #expect(reply["uplink"]?["outbox"]?.intValue == 0)
        var mode = stat()
        #expect(stat(socket, &mode) == 0 && mode.st_mode & 0o777 == 0o660, "the socket is for the vigie group only")

        // Readable text too.
        let text = try Self.vigie("status", "--socket", socket)
        #expect(text.status == 0)
        #expect(text.output.contains("unit-ctl") && text.output.contains("connected"), "\(text.output)")

        var doctor = try Self.vigie("doctor", "--json", "--socket", socket, "--config", file.path)
        for name in ["config", "daemon", "camera", "uplink", "outbox", "disk"] {
            #expect(Self.check(doctor.json, name)?["ok"]?.boolValue == true, "\(name): \(doctor.output)")
        }
        #expect(Self.check(doctor.json, "clock") != nil)

        // The broker goes: the uplink line fails, with a hint; the camera's does not; the exit status says so.
        broker.stop()
        let down = await waitFor(timeout: 30) {
            doctor = (try? Self.vigie("doctor", "--json", "--socket", socket, "--config", file.path)) ?? doctor
            return Self.check(doctor.json, "uplink")?["ok"]?.boolValue == false
        }
        #expect(down, "\(doctor.output)")
        #expect(doctor.status == 1)
        #expect(Self.check(doctor.json, "uplink")?["hint"]?.stringValue?.isEmpty == false)
        #expect(Self.check(doctor.json, "camera")?["ok"]?.boolValue == true)
        status = try Self.vigie("status", "--json", "--socket", socket)
        #expect(status.json?["uplink"]?["state"]?.stringValue == "disconnected")

        // The daemon goes: status fails plainly; doctor still checks what it can, and says how to fix it.
        #expect(daemon.terminate() == 0)
        status = try Self.vigie("status", "--socket", socket)
        #expect(status.status == 1)
        #expect(status.errors.contains("cannot reach vigied"), "\(status.errors)")
        doctor = try Self.vigie("doctor", "--json", "--socket", socket, "--config", file.path)
        #expect(doctor.status == 1)
        #expect(Self.check(doctor.json, "daemon")?["ok"]?.boolValue == false)
        #expect(Self.check(doctor.json, "uplink")?["detail"]?.stringValue?.contains("unreachable") == true)
    }

    @Test func doctorFailsTheCameraLineWhenTheCameraIsMissing() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let folder = try temporaryFolder("control-nocamera")
        var text = try String(
            contentsOf: try unitConfiguration(folder: folder, broker: broker, deviceID: "unit-nocam"), encoding: .utf8)
        text = text.replacingOccurrences(of: "uri = \"synthetic:\"", with: "uri = \"v4l2:/dev/video-absent\"")
        text += "\n[gpio]\nchip = \"label:no-such-chip\"\nbutton_line = 17\n"
        let file = folder.appendingPathComponent("nocamera.toml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let socket = folder.appendingPathComponent("control.sock").path
        let daemon = try DaemonProcess(
            arguments: ["--config", file.path, "--control-socket", socket],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        var doctor = Outcome(status: -1, output: "", errors: "")
        let answered = await waitFor(timeout: 30) {
            doctor = (try? Self.vigie("doctor", "--json", "--socket", socket, "--config", file.path)) ?? doctor
            return Self.check(doctor.json, "uplink")?["ok"]?.boolValue == true
        }
        try #require(answered, "\(doctor.output) \(doctor.errors)\n\(daemon.output.suffix(2000))")
        let camera = Self.check(doctor.json, "camera")
        #expect(camera?["ok"]?.boolValue == false)
        #expect(camera?["detail"]?.stringValue?.contains("camera_lost") == true, "\(doctor.output)")
        let gpio = Self.check(doctor.json, "gpio")
        #expect(gpio?["ok"]?.boolValue == false)
        #expect(gpio?["detail"]?.stringValue == "no GPIO chip label:no-such-chip", "\(doctor.output)")
        #expect(gpio?["hint"]?.stringValue?.contains("gpiodetect") == true)
        #expect(doctor.status == 1)
        let status = try Self.vigie("status", "--json", "--socket", socket)
        #expect(status.json?["camera"]?["state"]?.stringValue == "camera_lost")
        #expect(daemon.child.poll() == nil, "a missing camera stopped the unit")
    }

    /// Bad requests get an error reply, never a hang or a crash; a line over the limit is refused.
    @Test func malformedAndOversizedRequestsAreAnsweredWithAnError() async throws {
        let folder = try temporaryFolder("control-bad")
        let socket = folder.appendingPathComponent("control.sock").path
        let daemon = try DaemonProcess(
            arguments: [
                "--demo", "--state-dir", folder.appendingPathComponent("state").path, "--control-socket", socket,
            ],
            log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let up = await waitFor(timeout: 30) { (try? Self.vigie("status", "--socket", socket))?.status == 0 }
        try #require(up, "\(daemon.output.suffix(2000))")
        func ask(_ line: [UInt8]) throws -> JSONValue? {
            let connection = try ControlSocket.connect(path: socket)
            // All of it, or as much as the daemon reads before it answers and closes (a refused long line).
            try? connection.writeLine(String(decoding: line.dropLast(), as: UTF8.self))
            return try connection.readLine(limit: ControlSocket.maximumReply).flatMap { try? JSON.parse($0) }
        }
        for line in ["not json\n", "{\"request\":\"format_disk\"}\n", "[1,2]\n", "{\"request\":1}\n"] {
            let reply = try ask(Array(line.utf8))
            #expect(reply?["ok"]?.boolValue == false, "\(line)")
            #expect(reply?["error"]?.stringValue?.isEmpty == false)
        }
        let huge = try ask(Array(repeating: UInt8(ascii: "a"), count: 64 * 1024) + [10])
        #expect(huge?["error"]?.stringValue?.contains("longer than") == true)
        #expect((try? Self.vigie("status", "--socket", socket))?.status == 0, "the daemon still answers")

        // Clients that connect and say nothing hold nothing for long: the idle ones are dropped after the request
        // deadline, the ones past the limit are refused at once, and the unit keeps answering and working.
        var idle = try (0..<8).map { _ in try ControlSocket.connect(path: socket) }
        let slow = ContinuousClock.now
        let answered = await waitFor(timeout: 15) { (try? Self.vigie("status", "--socket", socket))?.status == 0 }
        #expect(answered, "idle clients locked the control socket out")
        #expect(ContinuousClock.now - slow < .seconds(10))
        #expect(idle.count == 8)
        idle.removeAll()  // closed: the slots free at once

        // A client that hangs up before the reply (Ctrl-C on `vigie status`): no SIGPIPE for the daemon.
        for _ in 0..<5 {
            let connection = try ControlSocket.connect(path: socket)
            // The daemon may already have said "busy" and closed: then this write fails, as it may.
            try? connection.writeLine(ControlRequest.status.line)
            shutdown(connection.descriptor, Int32(SHUT_RDWR))
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(daemon.child.poll() == nil, "a client hanging up ended the daemon")
        #expect((try? Self.vigie("status", "--socket", socket))?.status == 0, "the daemon still answers")
        #expect(daemon.terminate() == 0)
    }

    /// The CLI's own contract: help, usage errors, exit statuses.
    @Test func cliHelpAndExitStatuses() throws {
        let help = try Self.vigie("--help")
        #expect(help.status == 0)
        for command in ["status", "doctor", "camera", "config", "mask", "analyze"] {
            #expect(help.output.contains(command), "help lists \(command)")
        }
        let doctorHelp = try Self.vigie("doctor", "--help")
        #expect(doctorHelp.status == 0 && doctorHelp.output.contains("--json"))
        let unknown = try Self.vigie("reboot-the-pole")
        #expect(unknown.status == 64, "a usage error is EX_USAGE: \(unknown.status)")
        let badOption = try Self.vigie("status", "--colour")
        #expect(badOption.status == 64)
        let invalid = try Self.vigie("config", "validate", "/nonexistent/vigied.toml")
        #expect(invalid.status == 1)
        #expect(invalid.errors.contains("/nonexistent/vigied.toml"))
    }
}
