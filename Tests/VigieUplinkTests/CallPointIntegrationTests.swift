import Foundation
import Testing
import VigieCore
import VigieUplink

/// The call point of a real vigied (separate process) on simulated GPIO lines, against a real mosquitto: the
/// button pressed through `vigie callpoint simulate` (the technician's tool, over the control socket), the centre's
/// `call_ack` / `call_end` over MQTT, the LEDs read through `vigie status --json`.
@Suite("Call point against a real broker", .serialized)
struct CallPointIntegrationTests {
    /// A unit with a simulated button, call and fault LEDs, a cabinet switch, a speaker writing to a file, and a
    /// control socket.
    struct Unit {
        let broker: Broker
        let daemon: DaemonProcess
        let centre: TestClient
        let prefix: String
        let socket: String
        let audioFile: URL

        init(_ name: String, callPoint: String = "", pcm: String? = nil) async throws {
            broker = try Broker()
            try broker.start()
            let folder = try temporaryFolder(name)
            prefix = "vigie/v1/\(name)/"
            socket = folder.appendingPathComponent("control.sock").path
            // A persistent session: what the unit publishes while the centre is away (a broker restart) waits.
            centre = try TestClient.subscriber(broker, topic: prefix + "#", id: "centre-\(name)", persistent: true)
            #expect(await centre.ready(probe: prefix + "probe", timeout: 30), "the centre's subscription never worked")
            let (speaker, audioFile) = try SpeakerIntegrationTests.speakerSection(pcm: pcm)
            self.audioFile = audioFile
            let lines =
                speaker + """

                    [gpio]
                    chip = "simulated"
                    button_line = 0
                    led_call_line = 1
                    led_fault_line = 2
                    tamper_line = 3

                    [callpoint]
                    \(callPoint)
                    """
            let configuration = try unitConfiguration(
                folder: folder, broker: broker, deviceID: name, telemetry: 3600, uplink: lines)
            daemon = try DaemonProcess(
                arguments: ["--config", configuration.path, "--control-socket", socket],
                log: folder.appendingPathComponent("vigied.log"))
            let prefix = self.prefix
            let online = await centre.inbox.wait(timeout: 30) {
                $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
            }
            #expect(online, "no online status\n\(daemon.output)")
        }

        /// `vigie callpoint simulate <action> --json`: the reply's `callpoint`.
        func simulate(_ action: String) throws -> JSONValue? {
            let outcome = try ControlTests.vigie("callpoint", "simulate", action, "--json", "--socket", socket)
            #expect(outcome.status == 0, "\(outcome.errors)\n\(daemon.output)")
            return outcome.json?["callpoint"]
        }

        /// The call point as `vigie status --json` shows it.
        func status() throws -> JSONValue? {
            try ControlTests.vigie("status", "--json", "--socket", socket).json?["callpoint"]
        }

        func send(_ name: String, _ payload: String) throws {
            try centre.client.publish(topic: prefix + "cmd/" + name, payload: Array(payload.utf8), qos: 1)
        }

        func reply(_ id: String) async -> JSONValue? {
            let topic = prefix + "reply/" + id
            _ = await centre.inbox.wait(timeout: 20) { $0.contains { $0.topic == topic } }
            return await centre.inbox.messages.first { $0.topic == topic }?.json
        }

        /// Waits until `count` events of `kind` arrived; returns them all.
        func events(_ kind: String, count: Int = 1, timeout: Double = 20) async -> [JSONValue] {
            let topic = prefix + "event/" + kind
            _ = await centre.inbox.wait(timeout: timeout) { $0.filter { $0.topic == topic }.count >= count }
            return await centre.inbox.messages.filter { $0.topic == topic }.compactMap(\.json)
        }

        func stop() {
            daemon.kill()
            centre.stop()
            broker.stop()
        }
    }

    @Test func aPressIsOneCallWithItsSnapshotAfterItAndTheCentreAnswersAndEndsIt() async throws {
        let unit = try await Unit("unit-call", callPoint: "reassure_interval = 1")
        defer { unit.stop() }
        #expect(try unit.status()?["state"] == .string("idle"))
        let streaming = await waitFor(timeout: 10) {
            (try? ControlTests.vigie("status", "--json", "--socket", unit.socket).json?["camera"]?["state"])
                == .string("streaming")
        }
        #expect(streaming, "\(unit.daemon.output)")
        let pressed = try unit.simulate("press")
        #expect(pressed?["state"] == .string("registered"), "\(String(describing: pressed))")
        #expect(pressed?["leds"]?["call"] == .string("slow_blink"))
        let calls = await unit.events("call_button")
        try #require(calls.count == 1, "\(unit.daemon.output)")
        let call = calls[0]
        #expect(call["priority"] == .number(Double(Priority.emergency)))
        #expect(call["details"]?["press"] == .string("short"))
        #expect(call["details"]?["snapshot"] == .string("follows"))
        let callID = try #require(call["id"]?.stringValue)
        #expect(pressed?["call"] == .string(callID))
        // The masked snapshot of the caller follows the event, under the event's id.
        let snapshotTopic = unit.prefix + "snapshot/" + callID
        #expect(await unit.centre.inbox.wait(timeout: 20) { $0.contains { $0.topic == snapshotTopic } })
        let messages = await unit.centre.inbox.messages
        let eventIndex = try #require(messages.firstIndex { $0.topic == unit.prefix + "event/call_button" })
        let snapshotIndex = try #require(messages.firstIndex { $0.topic == snapshotTopic })
        #expect(eventIndex < snapshotIndex, "the snapshot came before the call")
        #expect(messages[snapshotIndex].payload.starts(with: [0xFF, 0xD8]), "not a JPEG")
        // The caller heard the acknowledgement, with the call's priority.
        let spoken = await unit.events("announcement")
        #expect(spoken.first?["details"]?["text"] == .string(CallPointSettings().acknowledgement))
        #expect(spoken.first?["details"]?["priority"] == .string("call_ack"))

        // Two more presses: counted in the call, never a new one.
        _ = try unit.simulate("press")
        try await Task.sleep(for: .milliseconds(300))
        _ = try unit.simulate("press")

        try unit.send("call_ack", #"{"id":"a1","call":"\#(callID)"}"#)
        let answered = await unit.reply("a1")
        #expect(answered?["ok"] == .bool(true), "\(String(describing: answered))")
        #expect(answered?["result"]?["call"] == .string(callID))
        let answer = await unit.events("call_answered").first
        #expect(answer?["details"]?["call"] == .string(callID))
        #expect(try unit.status()?["leds"]?["call"] == .string("on"))
        #expect(try unit.status()?["state"] == .string("answered"))

        try unit.send("call_end", #"{"id":"e1"}"#)
        #expect(await unit.reply("e1")?["ok"] == .bool(true))
        let ended = try #require(await unit.events("call_ended").first)
        #expect(ended["details"]?["call"] == .string(callID))
        #expect(ended["details"]?["reason"] == .string("centre"))
        #expect(ended["details"]?["answered"] == .string("true"))
        #expect(ended["details"]?["presses"] == .string("3"))
        #expect(try unit.status()?["leds"]?["call"] == .string("off"))
        #expect(try unit.status()?["state"] == .string("idle"))
        #expect(await unit.events("call_button").count == 1, "a press during the call made a new call")
        // The unit logs how long the call took from the edge to the broker's acknowledgement.
        #expect(unit.daemon.output.contains("edge_to_puback_ms="), "\(unit.daemon.output)")
    }

    @Test func malformedOrMisplacedCallCommandsGetPreciseErrors() async throws {
        let unit = try await Unit("unit-callbad")
        defer { unit.stop() }
        try unit.send("call_ack", #"{"id":"n1"}"#)
        #expect(await unit.reply("n1")?["error"]?["code"] == .string("no_call"))
        try unit.send("call_end", #"{"id":"n2"}"#)
        #expect(await unit.reply("n2")?["error"]?["code"] == .string("no_call"))
        _ = try unit.simulate("press")
        let cases: [(String, String, String)] = [
            ("call_ack", #"{"id":"b1","call":"not-this-call"}"#, "unknown_call"),
            ("call_end", #"{"id":"b2","call":"not-this-call"}"#, "unknown_call"),
            ("call_ack", #"{"id":"b3","message":5}"#, "invalid_field"),
            ("call_ack", #"{"id":"b4","message":""}"#, "invalid_field"),
            ("call_ack", #"{"id":"b5","operator":"x"}"#, "unknown_field"),
            ("call_end", #"{"id":"b6","call":["x"]}"#, "invalid_field"),
        ]
        for (name, payload, _) in cases { try unit.send(name, payload) }
        for (index, (_, _, code)) in cases.enumerated() {
            let reply = await unit.reply("b\(index + 1)")
            #expect(reply?["ok"] == .bool(false), "b\(index + 1): \(String(describing: reply))")
            #expect(reply?["error"]?["code"] == .string(code), "b\(index + 1): \(String(describing: reply))")
        }
        // Nothing changed: the call still waits for its answer.
        #expect(try unit.status()?["state"] == .string("registered"))
        #expect(await unit.events("call_answered", timeout: 1).isEmpty)
        #expect(await unit.events("call_ended", timeout: 1).isEmpty)
    }

    @Test func aPressWithTheBrokerDownIsDeliveredWhenItComesBackAndTheCallerIsAnsweredAtOnce() async throws {
        let unit = try await Unit("unit-calloff")
        defer { unit.stop() }
        unit.broker.stop()
        try await Task.sleep(for: .milliseconds(500))
        let pressed = try unit.simulate("press")
        // The caller sees the call LED and hears the acknowledgement without the network.
        #expect(pressed?["state"] == .string("registered"))
        #expect(pressed?["leds"]?["call"] == .string("slow_blink"))
        let heard = await waitFor(timeout: 15) {
            ((try? FileManager.default.attributesOfItem(atPath: unit.audioFile.path)[.size] as? Int) ?? 0) > 16_000
        }
        #expect(heard, "the acknowledgement was not played\n\(unit.daemon.output)")
        try unit.broker.start()
        let calls = await unit.events("call_button", timeout: 30)
        #expect(calls.count == 1, "\(unit.daemon.output)")
        #expect(calls.first?["priority"] == .number(Double(Priority.emergency)))
    }

    @Test func aHeldButtonIsOneStuckFaultThenReleasedAndTheSelfTestSaysSo() async throws {
        let unit = try await Unit("unit-stuck", callPoint: "stuck_after = 2")
        defer { unit.stop() }
        _ = try unit.simulate("hold")
        let stuck = await unit.events("button_stuck")
        #expect(stuck.count == 1, "\(unit.daemon.output)")
        #expect(stuck.first?["priority"] == .number(Double(Priority.fault)))
        #expect(try unit.status()?["leds"]?["fault"] == .string("fast_blink"))
        #expect(try unit.status()?["button_stuck"] == .bool(true))
        try unit.send("selftest", #"{"id":"t1"}"#)
        let test = await unit.reply("t1")
        #expect(test?["result"]?["verdict"] == .string("fault"), "\(String(describing: test))")
        #expect(test?["result"]?["button"]?["fault"] == .string("stuck"))
        #expect(test?["result"]?["gpio"]?["ok"] == .bool(true))
        let event = await unit.events("selftest").first
        #expect(event?["id"] == test?["result"]?["event"])
        #expect(event?["details"]?["button"] == .string("fault: stuck"))
        #expect(event?["details"]?["trigger"] == .string("command"))
        // Held 3 s more: still one fault, one call (the first press), no stream of calls.
        try await Task.sleep(for: .seconds(3))
        #expect(await unit.events("button_stuck", timeout: 0.1).count == 1)
        #expect(await unit.events("call_button", timeout: 0.1).count == 1)
        _ = try unit.simulate("release")
        let released = await unit.events("button_released")
        #expect(released.count == 1)
        #expect(try unit.status()?["leds"]?["fault"] == .string("off"))
        try unit.send("selftest", #"{"id":"t2"}"#)
        #expect(await unit.reply("t2")?["result"]?["verdict"] == .string("ok"))
    }

    @Test func aUnitWithoutACallPointSaysSo() async throws {
        let rig = try await CommandIntegrationTests.Rig("unit-nocall")
        defer { rig.stop() }
        try rig.send("call_ack", #"{"id":"x1"}"#)
        let reply = await SpeakerIntegrationTests.reply(rig, "x1")
        #expect(reply?["error"]?["code"] == .string("callpoint_unavailable"), "\(String(describing: reply))")
    }

    @Test func aSpeakerThatFailsShowsOnTheFaultLEDAndACallStillGoesThrough() async throws {
        let unit = try await Unit("unit-callmute", pcm: "hw:99")
        defer { unit.stop() }
        #expect(await unit.events("speaker_fault").count == 1, "\(unit.daemon.output)")
        let shown = await waitFor(timeout: 10) { (try? unit.status()?["leds"]?["fault"]) == .string("slow_blink") }
        #expect(shown, "\(String(describing: try? unit.status()))")
        _ = try unit.simulate("press")
        #expect(await unit.events("call_button").count == 1, "\(unit.daemon.output)")
        #expect(unit.daemon.output.contains("the acknowledgement cannot be said"))
    }
}
