import Foundation
import Testing
import VigieCore
import VigieUplink

/// The whole call point on real GPIO lines: vigied (a separate process) reading gpio-sim through libgpiod in the
/// real-kernel rig (`tools/vmtest`, run by `tools/test`), a real mosquitto, the test playing the wires through the
/// simulator's sysfs files (`pull` moves an input, `value` shows what an output drives). Outside the rig these
/// show as skipped; inside it (VIGIE_RIG=1) a missing chip is a failure.
@Suite("Call point on gpio-sim with a real broker (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct CallPointRigTests {
    struct RigError: Error, CustomStringConvertible {
        let description: String
    }

    static func environment(_ name: String) throws -> String {
        guard let value = getenv(name) else { throw RigError(description: "\(name) is not set: no gpio-sim chip") }
        return String(cString: value)
    }

    /// Moves input `offset` as a hand would: the button (to ground, pull-up) is pressed by pulling it down.
    static func pull(_ offset: Int, up: Bool) throws {
        let path = try linesFolder() + "/sim_gpio\(offset)/pull"
        try (up ? "pull-up" : "pull-down").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// What output `offset` drives now.
    static func level(_ offset: Int) throws -> Int {
        let path = try linesFolder() + "/sim_gpio\(offset)/value"
        return try String(contentsOfFile: path, encoding: .utf8).hasPrefix("1") ? 1 : 0
    }

    /// The levels output `offset` takes over `seconds`, sampled every 25 ms.
    static func levels(_ offset: Int, over seconds: Double) async throws -> Set<Int> {
        var seen: Set<Int> = []
        let end = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < end {
            seen.insert(try level(offset))
            try await Task.sleep(for: .milliseconds(25))
        }
        return seen
    }

    /// Whether vigied's call point has read its lines (its log says so) within 10 s: from then on a press is a call.
    static func ready(_ daemon: DaemonProcess) async -> Bool {
        await VigieUplinkTests.waitFor(timeout: 10) { daemon.output.contains("call point ready") }
    }

    // The rig names gpio-sim's lines 0 to 3 (tools/vmtest.d/guest-init.sh).
    static let button = 0
    static let tamper = 1
    static let callLED = 2
    static let faultLED = 3

    @Test func aPulledButtonLineIsOneCallTheLEDsFollowAndAHeldOneIsStuck() async throws {
        let chip = try Self.environment("VIGIE_RIG_GPIOCHIP")
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let name = "unit-rigcall"
        let prefix = "vigie/v1/\(name)/"
        let centre = try TestClient.subscriber(broker, topic: prefix + "#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: prefix + "probe", timeout: 30), "the centre's subscription never worked")
        let folder = try temporaryFolder(name)
        let (speaker, _) = try SpeakerIntegrationTests.speakerSection()
        // Lines by name, as a board whose chips the kernel may renumber would give them.
        let lines =
            speaker + """

                [gpio]
                chip = "\(chip)"
                button_line = "vigie-button"
                button_active_low = true
                button_bias = "pull-up"
                tamper_line = "vigie-tamper"
                tamper_active_low = false
                tamper_bias = "pull-down"
                led_call_line = "vigie-led-call"
                led_fault_line = "vigie-led-fault"

                [callpoint]
                stuck_after = 3
                """
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: name, telemetry: 3600, uplink: lines)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        let online = await centre.inbox.wait(timeout: 30) {
            $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
        }
        try #require(online, "no online status\n\(daemon.output)")
        func events(_ kind: String) async -> [JSONValue] {
            await centre.inbox.messages.filter { $0.topic == prefix + "event/" + kind }.compactMap(\.json)
        }
        func waitFor(_ kind: String, count: Int = 1, timeout: Double = 10) async -> Bool {
            await centre.inbox.wait(timeout: timeout) {
                $0.filter { $0.topic == prefix + "event/" + kind }.count >= count
            }
        }
        // The call point has requested its lines and read them: the button's pull-up holds it released, the LEDs
        // are dark. (The pull-up alone shows the line requested, not yet read: a press then is held at start-up.)
        try #require(await Self.ready(daemon), "\(daemon.output)")
        #expect(try Self.level(Self.button) == 1)
        #expect(try Self.level(Self.callLED) == 0 && Self.level(Self.faultLED) == 0)

        // A press of 150 ms: exactly one call.
        try Self.pull(Self.button, up: false)
        try await Task.sleep(for: .milliseconds(150))
        try Self.pull(Self.button, up: true)
        #expect(await waitFor("call_button"), "\(daemon.output)")
        try await Task.sleep(for: .seconds(1))
        let calls = await events("call_button")
        #expect(calls.count == 1, "\(calls)")
        let callID = try #require(calls.first?["id"]?.stringValue)
        // The call LED blinks while the call waits (1 Hz: both levels within 1.5 s).
        #expect(try await Self.levels(Self.callLED, over: 1.5) == [0, 1])
        try centre.client.publish(
            topic: prefix + "cmd/call_ack", payload: Array(#"{"id":"a1","call":"\#(callID)"}"#.utf8), qos: 1)
        #expect(await waitFor("call_answered"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await Self.levels(Self.callLED, over: 1.2) == [1], "answered: the call LED is steady")
        try centre.client.publish(topic: prefix + "cmd/call_end", payload: Array(#"{"id":"e1"}"#.utf8), qos: 1)
        #expect(await waitFor("call_ended"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try Self.level(Self.callLED) == 0)

        // Held: one call, then after 3 s one button_stuck (no stream of calls), the fault LED blinking fast.
        try Self.pull(Self.button, up: false)
        #expect(await waitFor("button_stuck", timeout: 10), "\(daemon.output)")
        #expect(try await Self.levels(Self.faultLED, over: 0.6) == [0, 1])
        try await Task.sleep(for: .seconds(2))
        #expect(await events("button_stuck").count == 1)
        #expect(await events("call_button").count == 2, "the hold is one call, its length no more")
        try Self.pull(Self.button, up: true)
        #expect(await waitFor("button_released"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try Self.level(Self.faultLED) == 0)

        // The cabinet's door: opened, the fault LED steady; closed again.
        try Self.pull(Self.tamper, up: true)
        #expect(await waitFor("cabinet_opened"))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await Self.levels(Self.faultLED, over: 0.6) == [1])
        try Self.pull(Self.tamper, up: false)
        #expect(await waitFor("cabinet_closed"))
        #expect(await events("gpio_fault").isEmpty, "\(daemon.output)")
    }

    /// gpio-sim's configuration folder (configfs), where `live` adds and removes the chip.
    static let simulator = "/sys/kernel/config/gpio-sim/vigie"

    /// The sysfs folder of the simulator's lines now (`VIGIE_RIG_GPIO_SYSFS` at boot; it changes when the chip
    /// comes back).
    static func linesFolder() throws -> String {
        let device = try String(contentsOfFile: simulator + "/dev_name", encoding: .utf8)
        let chip = try String(contentsOfFile: simulator + "/bank0/chip_name", encoding: .utf8)
        return "/sys/devices/platform/\(device.trimmingCharacters(in: .whitespacesAndNewlines))/"
            + chip.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aChipThatGoesAwayMidCallIsAFaultTheCallGoesOnAndTheLinesComeBack() async throws {
        let broker = try Broker()
        try broker.start()
        defer { broker.stop() }
        let name = "unit-riggone"
        let prefix = "vigie/v1/\(name)/"
        let centre = try TestClient.subscriber(broker, topic: prefix + "#")
        defer { centre.stop() }
        #expect(await centre.ready(probe: prefix + "probe", timeout: 30), "the centre's subscription never worked")
        let folder = try temporaryFolder(name)
        let (speaker, _) = try SpeakerIntegrationTests.speakerSection()
        // The chip by label: whatever number the kernel gives it when it comes back.
        let lines =
            speaker + """

                [gpio]
                chip = "label:vigie-sim"
                button_line = "vigie-button"
                button_active_low = true
                button_bias = "pull-up"
                led_call_line = "vigie-led-call"
                """
        let configuration = try unitConfiguration(
            folder: folder, broker: broker, deviceID: name, telemetry: 3600, uplink: lines)
        // Pulled down by the simulator before the start, so that the line reads released only through the pull-up
        // vigied requests (the chip it opened is the one the test plays).
        try Self.pull(Self.button, up: false)
        let daemon = try DaemonProcess(
            arguments: ["--config", configuration.path], log: folder.appendingPathComponent("vigied.log"))
        defer { daemon.kill() }
        try #require(
            await centre.inbox.wait(timeout: 30) {
                $0.contains { $0.topic == prefix + "status" && $0.json?["state"] == .string("online") }
            }, "no online status\n\(daemon.output)")
        try #require(await Self.ready(daemon), "\(daemon.output)")
        #expect(try Self.level(Self.button) == 1)
        func waitFor(_ kind: String, timeout: Double = 10) async -> Bool {
            await centre.inbox.wait(timeout: timeout) { $0.contains { $0.topic == prefix + "event/" + kind } }
        }
        try Self.pull(Self.button, up: false)
        try await Task.sleep(for: .milliseconds(150))
        try Self.pull(Self.button, up: true)
        #expect(await waitFor("call_button"), "\(daemon.output)")

        // The chip goes away (a driver unbound, a board fault): one gpio_fault; the call goes on.
        try "0".write(toFile: Self.simulator + "/live", atomically: false, encoding: .utf8)
        defer { try? "1".write(toFile: Self.simulator + "/live", atomically: false, encoding: .utf8) }
        #expect(await waitFor("gpio_fault"), "\(daemon.output)")
        try centre.client.publish(topic: prefix + "cmd/call_ack", payload: Array(#"{"id":"a1"}"#.utf8), qos: 1)
        #expect(await centre.inbox.wait(timeout: 10) { $0.contains { $0.topic == prefix + "reply/a1" } })
        let reply = await centre.inbox.messages.first { $0.topic == prefix + "reply/a1" }?.json
        #expect(
            reply?["ok"] == .bool(true), "the centre can answer a call whose lines failed: \(String(describing: reply))"
        )

        // Back: gpio_restored within the retry, and the call LED shows the answered call again (steady).
        try "1".write(toFile: Self.simulator + "/live", atomically: false, encoding: .utf8)
        #expect(await waitFor("gpio_restored", timeout: 20), "\(daemon.output)")
        try await Task.sleep(for: .milliseconds(300))
        let callLED = try Self.linesFolder() + "/sim_gpio\(Self.callLED)/value"
        #expect(try String(contentsOfFile: callLED, encoding: .utf8).hasPrefix("1"), "\(daemon.output)")
        try centre.client.publish(topic: prefix + "cmd/call_end", payload: Array(#"{"id":"e1"}"#.utf8), qos: 1)
        #expect(await waitFor("call_ended"))
        let ended = await centre.inbox.messages.first { $0.topic == prefix + "event/call_ended" }?.json
        #expect(ended?["details"]?["answered"] == .string("true"))
    }
}
