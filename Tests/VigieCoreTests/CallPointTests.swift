import Testing
import VigieCore

/// The call point's state machine through every path, on the tests' own clock (milliseconds from 0, plus a start
/// far from 0 so that nothing depends on time 0).
@Suite("Call point state machine")
struct CallPointTests {
    /// A machine and its clock; `ms(t)` is the instant `t` milliseconds after the start.
    struct Rig {
        var point: CallPoint
        static let origin: UInt64 = 1_000_000_000_000

        init(
            _ change: (inout CallPointSettings) -> Void = { _ in }, answeredLED: Bool = false,
            buttonHeld: Bool = false, cabinet: Bool? = false
        ) {
            var settings = CallPointSettings()
            settings.endedMessage = nil
            change(&settings)
            point = CallPoint(
                settings: settings, hasAnsweredLED: answeredLED, buttonActive: buttonHeld, cabinetActive: cabinet,
                at: Self.origin)
        }

        static func ms(_ milliseconds: Int) -> UInt64 { origin + UInt64(milliseconds) * 1_000_000 }

        mutating func button(_ active: Bool, at milliseconds: Int) -> [String] {
            describe(point.edge(GPIOEdge(.button, active: active, nanoseconds: Self.ms(milliseconds))))
        }

        mutating func cabinet(_ open: Bool, at milliseconds: Int) -> [String] {
            describe(point.edge(GPIOEdge(.tamper, active: open, nanoseconds: Self.ms(milliseconds))))
        }

        /// A clean press: down at `milliseconds`, up `hold` later (both edges' actions).
        mutating func press(at milliseconds: Int, hold: Int = 200) -> [String] {
            button(true, at: milliseconds) + button(false, at: milliseconds + hold)
        }

        mutating func tick(_ milliseconds: Int) -> [String] { describe(point.tick(at: Self.ms(milliseconds))) }

        mutating func answer(_ message: String? = nil, at milliseconds: Int) -> [String]? {
            try? describe(point.answer(message: message, at: Self.ms(milliseconds)).get())
        }

        mutating func end(at milliseconds: Int) -> [String]? {
            try? describe(point.end(at: Self.ms(milliseconds)).get())
        }

        /// Only the events raised, by kind.
        static func events(_ described: [String]) -> [String] { described.filter { !$0.hasPrefix("lights") } }
    }

    /// The actions as short strings: `call_button 1 short`, `speak …`, `lights call=slow_blink …`, `selftest`.
    static func describe(_ actions: [CallPoint.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .raise(let event):
                switch event {
                case .callButton(let call, let press): "call_button \(call) \(press.rawValue)"
                case .callAnswered(let call, let waited): "call_answered \(call) waited \(waited)"
                case .callEnded(let call, let reason, let duration, let answered, let presses):
                    "call_ended \(call) \(reason.rawValue) \(duration)s answered=\(answered) presses=\(presses)"
                case .buttonStuck(let held): "button_stuck \(held)"
                case .buttonReleased(let held): "button_released \(held)"
                case .cabinetOpened: "cabinet_opened"
                case .cabinetClosed: "cabinet_closed"
                }
            case .speak(let text): "speak \(text)"
            case .lights(let lights): "lights call=\(lights.call) answered=\(lights.answered) fault=\(lights.fault)"
            case .selfTest: "selftest"
            }
        }
    }

    static let acknowledgement = CallPointSettings().acknowledgement

    @Test("a short press registers the call on its first edge: LED, voice, then the event, in that order")
    func shortPress() {
        var rig = Rig()
        #expect(rig.point.start() == [.lights(CallPointLights())])
        #expect(
            rig.button(true, at: 1000) == [
                "lights call=slow_blink answered=off fault=off", "speak \(Self.acknowledgement)",
                "call_button 1 short",
            ])
        #expect(rig.point.phase == .registered)
        #expect(rig.button(false, at: 1200) == [])
    }

    @Test("bounces of the contact make one press, and a release that bounced is taken when it settles")
    func debounce() {
        var rig = Rig { $0.debounce = 0.05 }
        var events = rig.button(true, at: 1000)
        // Bounces within 50 ms of the press: ignored.
        for t in stride(from: 1002, to: 1040, by: 4) { events += rig.button(t % 8 == 2 ? false : true, at: t) }
        #expect(Rig.events(events).filter { $0.hasPrefix("call_button") }.count == 1)
        // The bounces are not presses of the call either.
        #expect(rig.point.call?.presses == 1)
        // A release with its own bounce: the level it settles on (released) is taken at the period's end.
        _ = rig.end(at: 1500)
        #expect(rig.button(false, at: 1600) == [])
        #expect(rig.button(true, at: 1610) == [])  // a bounce
        #expect(rig.button(false, at: 1620) == [])
        #expect(rig.point.nextDeadline == Rig.ms(300_000))  // nothing pending but the first self-test
        // The next press after the release settled is a new call.
        #expect(Rig.events(rig.button(true, at: 2000)).contains("call_button 2 short"))
    }

    @Test("a bounce that leaves the line pressed after a release is a press when the period ends")
    func bounceSettlingPressed() {
        var rig = Rig { $0.debounce = 0.05 }
        _ = rig.button(true, at: 1000)  // call 1
        _ = rig.end(at: 1100)
        _ = rig.button(false, at: 1200)
        // Released at 1200 (accepted). Pressed again 10 ms later: within the period, taken at its end (1250).
        #expect(rig.button(true, at: 1210) == [])
        #expect(Rig.events(rig.tick(1249)) == [])
        #expect(Rig.events(rig.tick(1400)).contains("call_button 2 short"))
    }

    @Test("long press: a call only when held long enough")
    func longPress() {
        var rig = Rig {
            $0.press = .long
            $0.longPress = 2
        }
        #expect(Rig.events(rig.press(at: 1000, hold: 1500)) == [])
        #expect(Rig.events(rig.tick(5000)) == [])
        #expect(rig.button(true, at: 6000) == [])
        #expect(rig.point.nextDeadline == Rig.ms(8000))
        #expect(Rig.events(rig.tick(7999)) == [])
        #expect(Rig.events(rig.tick(8000)) == ["speak \(Self.acknowledgement)", "call_button 1 long"])
        // Still held: no second call.
        #expect(Rig.events(rig.tick(12_000)) == [])
    }

    @Test("double press: two presses within the window make a call; two far apart do not")
    func doublePress() {
        var rig = Rig {
            $0.press = .double
            $0.doublePressWindow = 1.5
        }
        #expect(Rig.events(rig.press(at: 1000)) == [])
        #expect(Rig.events(rig.press(at: 3000)) == [])  // 2 s later: a first press again
        #expect(Rig.events(rig.press(at: 4000)) == ["speak \(Self.acknowledgement)", "call_button 1 double"])
    }

    @Test("the centre answers, then ends the call: LEDs, message, events with durations")
    func answerAndEnd() {
        var rig = Rig()
        _ = rig.press(at: 1000)
        #expect(
            rig.answer(at: 4000) == [
                "call_answered 1 waited 3.0", "speak Un opérateur a pris votre appel.",
                "lights call=on answered=off fault=off",
            ])
        #expect(rig.point.phase == .answered)
        #expect(rig.answer("Restez sur place", at: 5000) == ["speak Restez sur place"])  // again: the message only
        #expect(
            rig.end(at: 61_000) == [
                "call_ended 1 centre 60.0s answered=true presses=1", "lights call=off answered=off fault=off",
            ])
        #expect(rig.point.phase == .idle)
        #expect(rig.point.call == nil)
    }

    @Test("with an answered LED: the call LED steady while waiting, the answered LED once answered")
    func answeredLED() {
        var rig = Rig(answeredLED: true)
        #expect(rig.button(true, at: 1000).first == "lights call=on answered=off fault=off")
        #expect(rig.answer(at: 2000)?.last == "lights call=off answered=on fault=off")
    }

    @Test("answering or ending with no call is refused and changes nothing")
    func noCall() {
        var rig = Rig()
        #expect(rig.point.answer(message: nil, at: Rig.ms(1000)) == .failure(.noCall))
        #expect(rig.point.end(at: Rig.ms(1000)) == .failure(.noCall))
        #expect(rig.point.phase == .idle)
    }

    @Test("a call nobody ends ends by itself after the timeout")
    func timeout() {
        var rig = Rig { $0.callTimeout = 600 }
        _ = rig.press(at: 1000)
        #expect(!rig.tick(600_999).contains { $0.hasPrefix("call_ended") })
        #expect(Rig.events(rig.tick(700_000)) == ["call_ended 1 timeout 600.0s answered=false presses=1"])
    }

    @Test("presses during a call are counted in it, never a new call; a waiting caller hears the message again")
    func pressesDuringCall() {
        var rig = Rig { $0.reassureInterval = 15 }
        _ = rig.press(at: 1000)
        #expect(Rig.events(rig.press(at: 3000)) == [])  // 2 s after: counted, not repeated yet
        #expect(Rig.events(rig.press(at: 20_000)) == ["speak \(Self.acknowledgement)"])
        _ = rig.answer(at: 30_000)
        #expect(Rig.events(rig.press(at: 50_000)) == [])  // answered: counted only
        #expect(rig.end(at: 60_000)?.first == "call_ended 1 centre 59.0s answered=true presses=4")
        // The next press after the end is a new call.
        #expect(Rig.events(rig.press(at: 70_000)).last == "call_button 2 short")
    }

    @Test("a held button: one call, then one button_stuck, no stream of calls; button_released when it comes back")
    func stuckButton() {
        var rig = Rig { $0.stuckAfter = 30 }
        #expect(Rig.events(rig.button(true, at: 1000)).last == "call_button 1 short")
        #expect(rig.tick(30_999) == [])
        #expect(rig.tick(31_000) == ["button_stuck 30.0", "lights call=slow_blink answered=off fault=fast_blink"])
        #expect(Rig.events(rig.tick(120_000)) == [])
        _ = rig.end(at: 130_000)
        #expect(rig.button(false, at: 200_000) == ["button_released 199.0", "lights call=off answered=off fault=off"])
        #expect(rig.point.buttonStuck == false)
        #expect(Rig.events(rig.press(at: 201_000)).last == "call_button 2 short")
    }

    @Test("a button already held at start-up makes no call, and is stuck after the delay")
    func heldAtStartup() {
        var rig = Rig({ $0.stuckAfter = 30 }, buttonHeld: true)
        _ = rig.point.start()
        #expect(Rig.events(rig.tick(29_000)) == [])
        #expect(Rig.events(rig.tick(30_000)) == ["button_stuck 30.0"])
        #expect(Rig.events(rig.button(false, at: 40_000)) == ["button_released 40.0"])
    }

    @Test("the cabinet: opened and closed events, the fault LED steady while open, debounced")
    func cabinet() {
        var rig = Rig()
        #expect(rig.cabinet(true, at: 1000) == ["cabinet_opened", "lights call=off answered=off fault=on"])
        #expect(rig.cabinet(false, at: 1010) == [])  // a bounce
        #expect(rig.cabinet(true, at: 1020) == [])
        #expect(rig.cabinet(false, at: 9000) == ["cabinet_closed", "lights call=off answered=off fault=off"])
    }

    @Test("a cabinet open at start-up is reported by start")
    func cabinetOpenAtStart() {
        var rig = Rig(cabinet: true)
        #expect(rig.point.start() == [.raise(.cabinetOpened), .lights(CallPointLights(fault: .on))])
    }

    @Test("no cabinet switch: its edges are ignored")
    func noCabinetSwitch() {
        var rig = Rig(cabinet: nil)
        #expect(rig.cabinet(true, at: 1000) == [])
    }

    @Test("faults: a stuck button shows fast, a speaker fault slow, an open cabinet steady")
    func faultLED() {
        var rig = Rig()
        _ = rig.cabinet(true, at: 1000)
        #expect(rig.point.lights.fault == .on)
        _ = rig.point.setFault(.speaker, true, at: Rig.ms(2000))
        #expect(rig.point.lights.fault == .slowBlink)
        _ = rig.button(true, at: 3000)
        _ = rig.tick(40_000)
        #expect(rig.point.lights.fault == .fastBlink)
        _ = rig.button(false, at: 41_000)
        #expect(rig.point.lights.fault == .slowBlink)
        #expect(
            rig.point.setFault(.speaker, false, at: Rig.ms(42_000)) == [
                .lights(CallPointLights(call: .slowBlink, fault: .on))
            ])
    }

    @Test("the self-test: first 5 minutes after start, then every interval, once however late the tick")
    func selfTestSchedule() {
        var rig = Rig { $0.selfTestInterval = 86_400 }
        #expect(rig.point.nextDeadline == Rig.ms(300_000))
        #expect(rig.tick(299_999) == [])
        #expect(rig.tick(300_000) == ["selftest"])
        #expect(rig.point.nextDeadline == Rig.ms(300_000 + 86_400_000))
        // A unit asleep for two intervals runs it once.
        #expect(rig.tick(300_000 + 3 * 86_400_000) == ["selftest"])
        // A self-test asked for by the centre moves the next one.
        rig.point.selfTestRan(at: Rig.ms(400_000_000))
        #expect(rig.point.nextDeadline == Rig.ms(400_000_000 + 86_400_000))
    }

    @Test("a press the kernel dated before the centre ended the call belongs to that call, never a new one")
    func lateEdge() {
        var rig = Rig()
        _ = rig.press(at: 1000)
        _ = rig.end(at: 5000)
        // Read after the centre's call_end, stamped before it (4 s): counted in the ended call.
        #expect(Rig.events(rig.button(true, at: 4000)) == [])
        #expect(rig.point.call == nil)
        _ = rig.button(false, at: 5100)
        // Time never runs backwards inside the machine: an edge stamped before the latest input counts as now.
        _ = rig.tick(7000)
        #expect(Rig.events(rig.button(true, at: 6000)).last == "call_button 2 short")
        #expect(rig.point.call?.startedAt == Rig.ms(7000))
    }

    @Test("lines reopened after a fault: the call goes on, a stuck button found released is released, the cabinet")
    func resynchronize() {
        var rig = Rig { $0.stuckAfter = 30 }
        _ = rig.button(true, at: 1000)  // a call, and the button held
        _ = rig.tick(31_000)  // stuck
        #expect(rig.point.buttonStuck)
        // The lines failed and came back: the button is up, the cabinet open.
        let actions = CallPointTests.describe(
            rig.point.resynchronize(buttonActive: false, cabinetActive: true, at: Rig.ms(40_000)))
        #expect(
            actions == [
                "button_released 39.0", "cabinet_opened", "lights call=slow_blink answered=off fault=on",
            ])
        #expect(rig.point.call?.number == 1, "the call in progress is kept")
        // Held when the lines come back: no call (it may be stuck), stuck after the delay from then.
        #expect(rig.end(at: 41_000)?.first == "call_ended 1 centre 40.0s answered=false presses=1")
        #expect(
            Rig.events(
                CallPointTests.describe(
                    rig.point.resynchronize(buttonActive: true, cabinetActive: true, at: Rig.ms(50_000)))) == [])
        #expect(Rig.events(rig.tick(79_000)) == [])
        #expect(Rig.events(rig.tick(80_000)) == ["button_stuck 30.0"])
    }

    @Test("LED patterns: blinking in phase with the clock, and when each next changes")
    func patterns() {
        #expect(LEDPattern.slowBlink.isLit(at: 0))
        #expect(!LEDPattern.slowBlink.isLit(at: 500_000_000))
        #expect(LEDPattern.fastBlink.isLit(at: 250_000_000))
        #expect(LEDPattern.fastBlink.nextChange(after: 130_000_000) == 250_000_000)
        #expect(LEDPattern.on.nextChange(after: 5) == nil)
        #expect(LEDPattern.on.isLit(at: 123) && !LEDPattern.off.isLit(at: 123))
    }
}
