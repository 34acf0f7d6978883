import Testing
import VigieCore

@Suite("[callpoint] configuration")
struct CallPointConfigurationTests {
    /// The issues of `text` as `line key`, or `[]` when it is valid.
    static func issues(_ text: String) -> [String] {
        do {
            _ = try Configuration.parse(text, file: "unit.toml")
            return []
        } catch {
            return error.issues.map { "\($0.file):\($0.line) \($0.key)" }
        }
    }

    @Test func defaultsWithoutTheTable() throws {
        #expect(try Configuration.parse("", file: "unit.toml").callPoint == CallPointSettings())
    }

    @Test func everyKeyIsRead() throws {
        let text = """
            [callpoint]
            press = "long"
            debounce = 0.02
            long_press = 3
            double_press_window = 1
            stuck_after = 45
            call_timeout = 600
            reassure_interval = 20
            selftest_interval = 43200
            acknowledgement = "Appel transmis."
            answered_message = ""
            ended_message = "Au revoir."
            """
        let settings = try Configuration.parse(text, file: "unit.toml").callPoint
        #expect(settings.press == .long)
        #expect(settings.debounce == 0.02)
        #expect(settings.longPress == 3)
        #expect(settings.doublePressWindow == 1)
        #expect(settings.stuckAfter == 45)
        #expect(settings.callTimeout == 600)
        #expect(settings.reassureInterval == 20)
        #expect(settings.selfTestInterval == 43200)
        #expect(settings.acknowledgement == "Appel transmis.")
        #expect(settings.answeredMessage == nil)
        #expect(settings.endedMessage == "Au revoir.")
    }

    @Test func errorsNameFileLineAndKey() {
        #expect(Self.issues("[callpoint]\npress = \"triple\"\n") == ["unit.toml:2 callpoint.press"])
        #expect(
            Self.issues("[callpoint]\n\nselftest_interval = 300000\n") == ["unit.toml:3 callpoint.selftest_interval"])
        #expect(Self.issues("[callpoint]\nacknowledgement = \"\"\n") == ["unit.toml:2 callpoint.acknowledgement"])
        #expect(Self.issues("[callpoint]\nbeep = 1\n") == ["unit.toml:2 callpoint.beep"])
        #expect(
            Self.issues("[callpoint]\npress = \"long\"\nlong_press = 8\nstuck_after = 5\n")
                == ["unit.toml:3 callpoint.long_press"])
        // The default long press (2 s) against a shorter stuck delay: named where the file sets it.
        #expect(
            Self.issues("[callpoint]\npress = \"long\"\nstuck_after = 1\n") == ["unit.toml:3 callpoint.stuck_after"])
        // A sentence longer than the speaker says.
        #expect(
            Self.issues(
                "[gpio]\nchip = \"simulated\"\nbutton_line = 0\n[speaker]\nmax_text = 20\n"
                    + "[callpoint]\nanswered_message = \"Un opérateur a pris votre appel.\"\n")
                == ["unit.toml:6 callpoint.acknowledgement", "unit.toml:7 callpoint.answered_message"])
        let long = String(repeating: "a", count: 501)
        #expect(Self.issues("[callpoint]\nended_message = \"\(long)\"\n") == ["unit.toml:2 callpoint.ended_message"])
    }

    @Test func aReloadKeepsTheRunningCallPoint() throws {
        let running = try Configuration.parse("", file: "unit.toml")
        let next = try Configuration.parse("[callpoint]\nstuck_after = 10\n", file: "unit.toml")
        let (applicable, restartNeeded) = next.applicable(over: running)
        #expect(applicable.callPoint == running.callPoint)
        #expect(restartNeeded == ["callpoint"])
    }
}
