import Foundation
import Synchronization
import Testing
import VigieCore

@testable import VigieGPIO

/// Against gpio-sim in the real-kernel rig (`tools/vmtest`, run by `tools/test`): the test plays the wire by
/// writing `pull-up` or `pull-down` into the simulator's sysfs files and reads the LEDs back from them. Outside the
/// rig these show as skipped; inside it (VIGIE_RIG=1) a missing chip is a failure.
@Suite("GPIO lines against gpio-sim (rig)", .serialized, .enabled(if: getenv("VIGIE_RIG") != nil))
struct GPIORigTests {
    struct RigError: Error, CustomStringConvertible {
        let description: String
    }

    static func environment(_ name: String) throws -> String {
        guard let value = getenv(name) else { throw RigError(description: "\(name) is not set: no gpio-sim chip") }
        return String(cString: value)
    }

    static func chip() throws -> String { try environment("VIGIE_RIG_GPIOCHIP") }

    /// Pulls line `offset` of the simulator up or down, as a button or a switch would.
    static func pull(_ offset: Int, up: Bool) throws {
        let path = try environment("VIGIE_RIG_GPIO_SYSFS") + "/sim_gpio\(offset)/pull"
        try (up ? "pull-up" : "pull-down").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The level the simulator sees on line `offset` (what an output drives).
    static func level(_ offset: Int) throws -> Int {
        let path = try environment("VIGIE_RIG_GPIO_SYSFS") + "/sim_gpio\(offset)/value"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return text.hasPrefix("1") ? 1 : 0
    }

    /// A button (line 0, to ground, pull-up) and a tamper switch (line 1, active high, pull-down).
    static func inputs(button: GPIOSettings.Line = 0) throws -> GPIOSettings {
        GPIOSettings(
            chip: .path(try chip()), button: .init(line: button, activeLow: true, bias: .pullUp),
            tamper: .init(line: 1, activeLow: false, bias: .pullDown))
    }

    @Test func opensTheChipByPathAndByLabel() throws {
        let path = try Self.chip()
        let byPath = try GPIOChipInfo(.path(path), lines: [7, 8, .name("vigie-led-fault"), .name("nothing")])
        #expect(byPath.label == "vigie-sim" && byPath.lineCount == 8 && byPath.path == path)
        #expect(byPath.offsets == [7, nil, 3, nil])
        let byLabel = try GPIOChipInfo(.label("vigie-sim"))
        #expect(byLabel.path == path)
        let lines = try LibgpiodLines(GPIOSettings(chip: .label("vigie-sim"), callLED: 2))
        defer { lines.close() }
        #expect(lines.chipPath == path && lines.chipLabel == "vigie-sim" && lines.outputs == [.callLED])
    }

    @Test func edgesCarryTheLogicalLevelAndTheKernelsTime() throws {
        let lines = try LibgpiodLines(try Self.inputs())
        defer { lines.close() }
        #expect(lines.inputs == [.button, .tamper])
        // The request's bias set the simulator's pulls: both inputs at rest.
        #expect(try lines.isActive(.button) == false && lines.isActive(.tamper) == false)
        #expect(try lines.nextEdge(timeout: .milliseconds(100)) == nil, "no edge before the test moves a line")

        // Active-low: the press takes the line low, and libgpiod 1.6 reports it as a rising (logical) edge.
        let before = MonotonicClock.nanoseconds()
        try Self.pull(0, up: false)
        let after = MonotonicClock.nanoseconds()
        let press = try #require(try lines.nextEdge(timeout: .seconds(2)))
        #expect(press.input == .button && press.active)
        #expect(press.nanoseconds >= before && press.nanoseconds <= after, "\(before) \(press) \(after)")
        #expect(try lines.isActive(.button))
        try Self.pull(0, up: true)
        let release = try #require(try lines.nextEdge(timeout: .seconds(2)))
        #expect(release.input == .button && !release.active && release.nanoseconds > press.nanoseconds)

        // Active-high: the door opening takes the line high.
        let opening = MonotonicClock.nanoseconds()
        try Self.pull(1, up: true)
        let opened = MonotonicClock.nanoseconds()
        let door = try #require(try lines.nextEdge(timeout: .seconds(2)))
        #expect(door.input == .tamper && door.active)
        #expect(door.nanoseconds >= opening && door.nanoseconds <= opened)
        #expect(try lines.isActive(.tamper))
        try Self.pull(1, up: false)
        let closing = try #require(try lines.nextEdge(timeout: .seconds(2)))
        #expect(closing.input == .tamper && !closing.active)
    }

    @Test func edgesOnBothLinesComeInTheOrderTheyHappened() throws {
        let lines = try LibgpiodLines(try Self.inputs())
        defer { lines.close() }
        // Apart enough for the kernel to handle each edge: two edges of one line closer than its interrupt thread
        // merge into one event, named from the level read then (seen here, with back-to-back writes).
        try Self.pull(1, up: true)
        usleep(50_000)
        try Self.pull(0, up: false)
        usleep(50_000)
        try Self.pull(1, up: false)
        usleep(50_000)
        var edges: [GPIOEdge] = []
        while let edge = try lines.nextEdge(timeout: .milliseconds(300)) { edges.append(edge) }
        #expect(edges.map(\.input) == [.tamper, .button, .tamper], "\(edges)")
        #expect(edges.map(\.active) == [true, true, false])
        #expect(edges.map(\.nanoseconds) == edges.map(\.nanoseconds).sorted())
        try Self.pull(0, up: true)
    }

    @Test func aWaitWithoutAnEdgeLastsItsTimeout() throws {
        let lines = try LibgpiodLines(try Self.inputs())
        defer { lines.close() }
        let start = MonotonicClock.nanoseconds()
        #expect(try lines.nextEdge(timeout: .milliseconds(400)) == nil)
        let waited = Double(MonotonicClock.nanoseconds() - start) / 1e9
        #expect(waited >= 0.39 && waited < 1.5, "\(waited) s")
    }

    @Test func outputsDriveTheLinesAndCloseTurnsThemOff() throws {
        let settings = GPIOSettings(
            chip: .path(try Self.chip()), callLED: 2, answeredLED: 4, faultLED: .name("vigie-led-fault"))
        let lines = try LibgpiodLines(settings)
        #expect(lines.outputs == [.callLED, .answeredLED, .faultLED] && lines.inputs.isEmpty)
        #expect(lines.offsets == ["led_call": 2, "led_answered": 4, "led_fault": 3])
        #expect(try [2, 4, 3].map(Self.level) == [0, 0, 0], "requested low: LEDs off")
        try lines.set(.callLED, lit: true)
        #expect(try [2, 4, 3].map(Self.level) == [1, 0, 0])
        try lines.set(.answeredLED, lit: true)
        try lines.set(.faultLED, lit: true)
        try lines.set(.callLED, lit: false)
        #expect(try [2, 4, 3].map(Self.level) == [0, 1, 1])
        #expect(throws: GPIOError.self) { try lines.isActive(.button) }
        lines.close()
        #expect(try [2, 4, 3].map(Self.level) == [0, 0, 0], "close turns every LED off")
        #expect(throws: GPIOError.self) { try lines.set(.callLED, lit: true) }
        // Released: another request gets the lines.
        let again = try LibgpiodLines(settings)
        again.close()
    }

    @Test func closeWhileAnotherThreadWaitsEndsTheWait() throws {
        let lines = try LibgpiodLines(try Self.inputs())
        let result = Mutex<(edge: GPIOEdge?, seconds: Double)?>(nil)
        let start = MonotonicClock.nanoseconds()
        Thread.detachNewThread {
            let edge = try? lines.nextEdge(timeout: .seconds(10))
            let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
            result.withLock { $0 = (edge, seconds) }
        }
        usleep(300_000)
        lines.close()
        let closed = Double(MonotonicClock.nanoseconds() - start) / 1e9
        var outcome: (edge: GPIOEdge?, seconds: Double)?
        for _ in 0..<200 where outcome == nil {
            usleep(10_000)
            outcome = result.withLock { $0 }
        }
        let ended = try #require(outcome, "nextEdge still waiting 2 s after close")
        #expect(ended.edge == nil)
        #expect(ended.seconds < 1.5 && closed < 1.5, "wait ended after \(ended.seconds) s, close took \(closed) s")
        #expect(throws: GPIOError("wait", reason: "closed")) { try lines.nextEdge(timeout: .seconds(1)) }
        // The inputs were released by close itself: they can be requested again at once.
        let again = try LibgpiodLines(try Self.inputs())
        again.close()
    }

    @Test func aBusyLineIsRefusedNamingTheLine() throws {
        let held = try LibgpiodLines(try Self.inputs())
        defer { held.close() }
        #expect {
            _ = try LibgpiodLines(GPIOSettings(chip: .path(try Self.chip()), callLED: 1))
        } throws: { error in
            let error = error as? GPIOError
            return error?.operation == "request" && error?.line == "led_call 1"
                && error?.reason.contains("used by another process (vigied?)") == true
                && error?.reason.contains("busy") == true
        }
        // What was requested before the busy line was given back: line 2 is free again.
        let outputs = try LibgpiodLines(GPIOSettings(chip: .path(try Self.chip()), callLED: 2))
        outputs.close()
    }

    @Test func linesByName() throws {
        let lines = try LibgpiodLines(try Self.inputs(button: .name("vigie-button")))
        defer { lines.close() }
        #expect(lines.offsets["button"] == 0)
        try Self.pull(0, up: false)
        #expect(try lines.nextEdge(timeout: .seconds(2))?.active == true)
        try Self.pull(0, up: true)
        #expect {
            _ = try LibgpiodLines(GPIOSettings(chip: .path(try Self.chip()), callLED: .name("GPIO17")))
        } throws: { error in
            (error as? GPIOError)?.reason.contains("no line named 'GPIO17'") == true
        }
        #expect {
            _ = try LibgpiodLines(
                GPIOSettings(
                    chip: .path(try Self.chip()), button: .init(line: 6, activeLow: false, bias: .asIs),
                    callLED: .name("vigie-led-call"), faultLED: 2))
        } throws: { error in
            (error as? GPIOError)?.reason == "line 2 is also led_call"
        }
    }

    @Test func buttonWatchPrintsEachEdge() throws {
        let chip = try Self.chip()
        let watch = try CLIProcess([
            "button", "watch", "--chip", chip, "--line", "5", "--active-low", "--bias", "pull-up", "--count", "2",
            "--timeout", "20",
        ])
        #expect(watch.wait(seconds: 20) { $0.standardError.contains("watching line 5") }, "\(watch.standardError)")
        try Self.pull(5, up: false)
        usleep(200_000)
        try Self.pull(5, up: true)
        let status = watch.status(within: 20)
        #expect(status == 0, "\(watch.standardError)")
        let printed = watch.standardOutput.split(separator: "\n").map(String.init)
        #expect(printed.count == 2, "\(printed)")
        #expect(printed.first?.hasSuffix("  line 5  falling") == true, "\(printed)")
        #expect(printed.last?.hasSuffix("  line 5  rising") == true, "\(printed)")
        // HH:MM:SS.mmm, local time.
        #expect(printed.allSatisfy { $0.prefix(12).filter { $0 == ":" }.count == 2 && $0.prefix(12).contains(".") })
    }

    @Test func ledTestLightsEachLEDInTurn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-led-\(getpid()).toml").path
        defer { unlink(file) }
        try """
        [gpio]
        chip = "label:vigie-sim"
        led_call_line = "vigie-led-call"
        led_answered_line = 6
        led_fault_line = 3
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let test = try CLIProcess(["led", "test", "--config", file, "--seconds", "0.5"])
        // While the answered LED is lit, only it is.
        let answered = test.wait(seconds: 20) { $0.standardOutput.contains("led_answered lit") }
        #expect(answered, "\(test.standardOutput) \(test.standardError)")
        usleep(150_000)
        #expect(try [2, 6, 3].map(Self.level) == [0, 1, 0])
        #expect(test.status(within: 20) == 0, "\(test.standardError)")
        #expect(
            test.standardOutput.split(separator: "\n").map { $0.split(separator: " ").first ?? "" } == [
                "led_call", "led_answered", "led_fault", "all",
            ], "\(test.standardOutput)")
        #expect(try [2, 6, 3].map(Self.level) == [0, 0, 0])
    }

    @Test func ledTestTurnsTheLEDOffOnControlC() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-int-\(getpid()).toml").path
        defer { unlink(file) }
        try "[gpio]\nchip = \"label:vigie-sim\"\nled_call_line = 2\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let test = try CLIProcess(["led", "test", "--config", file, "--seconds", "30"])
        #expect(test.wait(seconds: 20) { $0.standardOutput.contains("led_call lit") }, "\(test.standardError)")
        usleep(100_000)
        #expect(try Self.level(2) == 1)
        test.interrupt()
        #expect(test.status(within: 10) == 130, "\(test.standardOutput) \(test.standardError)")
        #expect(test.standardOutput.contains("interrupted: all off"))
        #expect(try Self.level(2) == 0)
    }

    @Test func doctorFindsNamedLines() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-doc-\(getpid()).toml").path
        defer { unlink(file) }
        func gpioCheck(_ lines: String) throws -> JSONValue? {
            try "[gpio]\nchip = \"label:vigie-sim\"\n\(lines)".write(toFile: file, atomically: true, encoding: .utf8)
            let doctor = try CLIProcess.run("doctor", "--json", "--config", file, "--socket", file + ".sock")
            let reply = try JSON.parse(Array(doctor.output.utf8))
            return reply["checks"]?.arrayValue?.first { $0["name"]?.stringValue == "gpio" }
        }
        let good = try gpioCheck(
            "button_line = \"vigie-button\"\nled_call_line = 2\nled_fault_line = \"vigie-led-fault\"\n")
        #expect(good?["ok"] == .bool(true), "\(String(describing: good))")
        let bad = try gpioCheck("button_line = \"vigie-button\"\nled_call_line = 9\nled_fault_line = \"GPIO17\"\n")
        #expect(bad?["ok"] == .bool(false))
        #expect(
            bad?["detail"]?.stringValue?.hasSuffix("led_call_line 9, led_fault_line GPIO17 out of range or not found")
                == true, "\(String(describing: bad))")
    }

    @Test func buttonWatchByNameAndABusyLine() throws {
        let held = try LibgpiodLines(GPIOSettings(chip: .label("vigie-sim"), callLED: 2))
        defer { held.close() }
        let busy = try CLIProcess.run("button", "watch", "--chip", "label:vigie-sim", "--line", "vigie-led-call")
        #expect(busy.status == 1)
        #expect(busy.errors.contains("used by another process (vigied?)"), "\(busy.errors)")
        let unknown = try CLIProcess.run("button", "watch", "--chip", "label:vigie-sim", "--line", "GPIO17")
        #expect(unknown.status == 1 && unknown.errors.contains("no line named 'GPIO17'"), "\(unknown.errors)")
        let idle = try CLIProcess.run(
            "button", "watch", "--chip", "label:vigie-sim", "--line", "vigie-tamper", "--timeout", "0.5")
        #expect(idle.status == 1 && idle.errors.contains("no edge for 0.5 s"), "\(idle.errors)")
        #expect(idle.errors.contains("watching line vigie-tamper (1)"), "\(idle.errors)")
    }
}
