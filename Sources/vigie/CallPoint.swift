import ArgumentParser
import VigieCore

extension Vigie {
    struct CallPoint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "callpoint",
            abstract: "The emergency call point of the running unit.",
            subcommands: [Simulate.self])

        struct Simulate: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Press the button or answer the call on the unit itself, to check the whole chain.",
                discussion: """
                    press: the button pressed and released (a call, or a press counted in the call in progress); \
                    hold / release: the button held down (a stuck button after [callpoint] stuck_after) and let go; \
                    ack / end: what the centre's call_ack and call_end do. A real call reaches the centre: tell it \
                    first. On a simulated GPIO chip the press goes through the lines the call point reads; on real \
                    lines, straight into the call point. Prints where the call point is then.
                    """)

            @Argument(help: "press, hold, release, ack or end.")
            var action: ControlRequest.CallPointSimulation

            @OptionGroup var control: ControlSocketOption

            func run() throws {
                let (reply, line) = try control.ask(.callPoint(action)).get()
                if control.json {
                    print(line)
                    return
                }
                print(CallPoint.describe(reply["callpoint"]))
            }
        }

        /// One line: the state, the call, the LEDs, the faults.
        static func describe(_ callPoint: JSONValue?) -> String {
            func text(_ value: JSONValue?) -> String { value.map(JSONText.plain) ?? "?" }
            guard let callPoint else { return "no call point" }
            var line = text(callPoint["state"])
            if let call = callPoint["call"] { line += " (call \(text(call)))" }
            let leds = callPoint["leds"]
            line += "; LEDs: call \(text(leds?["call"])), answered \(text(leds?["answered"])), "
            line += "fault \(text(leds?["fault"]))"
            if callPoint["button_stuck"]?.boolValue == true { line += "; button STUCK" }
            if callPoint["cabinet_open"]?.boolValue == true { line += "; cabinet OPEN" }
            if let fault = callPoint["fault"] { line += "; fault: \(text(fault))" }
            return line
        }
    }
}

extension ControlRequest.CallPointSimulation: ExpressibleByArgument {}
