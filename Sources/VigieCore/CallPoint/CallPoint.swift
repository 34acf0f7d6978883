/// The emergency call point, as a state machine whose transitions return what to do. No threads, no GPIO, no
/// network: the call-point service feeds it the button's and the cabinet's edges, the centre's commands and the
/// time, and carries out the actions at once (LEDs and the spoken acknowledgement never wait on the network or
/// the disk).
///
/// A call goes idle → registered (a press: `call_button`, the acknowledgement spoken, the call LED) → answered
/// (`call_ack`: `call_answered`, the answered LED) → ended (`call_end` or the timeout: `call_ended`). Presses during
/// a call are counted in it, never a new call. A button held longer than `stuckAfter` is stuck: one
/// `button_stuck`, no call, `button_released` when it comes back. Inputs are debounced: an edge within `debounce`
/// of the last accepted change is a bounce, and the level it left is taken when the contact has settled.
///
/// Times are nanoseconds of the monotonic clock (the kernel's timestamps of the edges; the tests' own clock).
public struct CallPoint: Sendable {
    /// Where the call point is.
    public enum Phase: Sendable, Hashable {
        case idle
        case registered
        case answered
    }

    /// What the service must do, in order.
    public enum Action: Sendable, Hashable {
        /// Raise the event. A `callButton` is followed by the call's masked snapshot, sent as an item of its own
        /// once the event is on its way.
        case raise(CallPointEvent)
        /// Say this to the caller (with the call acknowledgement's priority).
        case speak(String)
        /// Show this on the LEDs.
        case lights(CallPointLights)
        /// Check the speaker, the GPIO lines and the camera, and publish the verdict (`selftest`).
        case selfTest
    }

    /// Why the centre's command was refused; nothing changed.
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case noCall

        public var description: String {
            switch self {
            case .noCall: "no call is in progress"
            }
        }
    }

    /// Faults the fault LED shows besides the button's and the cabinet's, which the machine sees itself.
    public enum Fault: String, Sendable, Hashable, CaseIterable {
        /// The speaker's output fails: the caller would not hear the acknowledgement.
        case speaker
        /// The last self-test found a part that does not work.
        case selfTest = "selftest"
    }

    /// The call in progress.
    public struct Call: Sendable, Hashable {
        /// Counts the calls since the machine started, from 1.
        public var number: Int
        public var startedAt: UInt64
        public var answeredAt: UInt64?
        /// Every press of the call, the first included.
        public var presses: Int
        /// When the acknowledgement was last spoken.
        var acknowledgedAt: UInt64
    }

    /// An input's debounced level: the first edge after a settled period is taken at once (a call must not
    /// wait), the edges within `debounce` after it are bounces, and the level the line settled on is taken when
    /// the period ends.
    struct Debounced: Sendable, Hashable {
        var level: Bool
        var raw: Bool
        var changedAt: UInt64
        let debounce: UInt64

        /// The new level when this edge changes it.
        mutating func edge(_ active: Bool, at time: UInt64) -> Bool? {
            raw = active
            return settle(at: time, edgeTime: time)
        }

        /// The level the line settled on, when the bounce period ended by `time` and it differs.
        mutating func tick(at time: UInt64) -> Bool? { settle(at: time, edgeTime: nil) }

        private mutating func settle(at time: UInt64, edgeTime: UInt64?) -> Bool? {
            guard raw != level, time >= changedAt &+ debounce else { return nil }
            level = raw
            // A level taken when the period ended dates from its end (it may have settled earlier, within it).
            changedAt = edgeTime ?? (changedAt &+ debounce)
            return level
        }

        var deadline: UInt64? { raw != level ? changedAt &+ debounce : nil }
    }

    public let settings: CallPointSettings
    /// Whether the unit has an answered LED; without it the call LED blinks while the call waits.
    public let hasAnsweredLED: Bool
    public private(set) var phase = Phase.idle
    public private(set) var call: Call?
    /// The button is stuck (held longer than `stuckAfter`).
    public private(set) var buttonStuck = false
    public private(set) var cabinetOpen: Bool
    public private(set) var faults: Set<Fault> = []
    public private(set) var lights = CallPointLights()
    /// When the next self-test is due.
    public private(set) var selfTestDue: UInt64

    private var button: Debounced
    private var tamper: Debounced?
    /// When the current press began (the button's accepted active edge); `nil` while released.
    private var pressedAt: UInt64?
    /// This press has made its call, or counted in one, or cannot (held since start-up, stuck).
    private var pressUsed = false
    /// The first press of a possible double press.
    private var firstPressAt: UInt64?
    private var callsMade = 0
    /// When the last call ended: a press the kernel dated before it (read after the centre's `call_end`) was a
    /// press of that call, not a new one.
    private var lastCallEndedAt: UInt64?
    /// The latest time seen: an input dated earlier (an edge read after a command) counts as happening now, so
    /// that time never runs backwards inside the machine.
    private var clock: UInt64

    /// The first self-test comes this long after start-up (the camera and the link have started by then).
    public static let firstSelfTestDelay: UInt64 = 300 * 1_000_000_000

    /// A machine for a unit whose button reads `buttonActive` and whose cabinet switch reads `cabinetActive`
    /// (`nil`: no switch) at `time`. A button already held at start-up makes no call (it may be stuck); an open
    /// cabinet is reported by `start`.
    public init(
        settings: CallPointSettings, hasAnsweredLED: Bool, buttonActive: Bool, cabinetActive: Bool?, at time: UInt64
    ) {
        self.settings = settings
        self.hasAnsweredLED = hasAnsweredLED
        let debounce = Self.nanoseconds(settings.debounce)
        button = Debounced(level: buttonActive, raw: buttonActive, changedAt: time, debounce: debounce)
        tamper = cabinetActive.map { Debounced(level: $0, raw: $0, changedAt: time, debounce: debounce) }
        cabinetOpen = cabinetActive ?? false
        if buttonActive {
            pressedAt = time
            pressUsed = true
        }
        selfTestDue = time &+ Self.firstSelfTestDelay
        clock = time
    }

    /// What to do at start-up: the LEDs, and `cabinet_opened` when the cabinet is open.
    public mutating func start() -> [Action] {
        var actions: [Action] = cabinetOpen ? [.raise(.cabinetOpened)] : []
        lights = computedLights()
        actions.append(.lights(lights))
        return actions
    }

    /// The lines were (re)opened and read these levels at `time` (at start-up, after a GPIO fault): the machine
    /// takes them as they are, the call in progress and the schedule kept. A button found held makes no call (it
    /// may be stuck: the stuck delay counts from now); a stuck button found released is `button_released`; a
    /// cabinet found in another state is `cabinet_opened` / `cabinet_closed`. The LEDs are shown again.
    public mutating func resynchronize(buttonActive: Bool, cabinetActive: Bool?, at time: UInt64) -> [Action] {
        var actions = advance(to: time)
        let time = clock
        if button.level != buttonActive || button.raw != buttonActive {
            button = Debounced(level: buttonActive, raw: buttonActive, changedAt: time, debounce: button.debounce)
            if buttonActive {
                pressedAt = time
                pressUsed = true
            } else {
                buttonChanged(false, at: time, into: &actions)
            }
        }
        if let cabinetActive, let switchState = tamper, switchState.level != cabinetActive {
            tamper = Debounced(level: cabinetActive, raw: cabinetActive, changedAt: time, debounce: button.debounce)
            cabinetChanged(cabinetActive, into: &actions)
        }
        lights = computedLights()
        actions.append(.lights(lights))
        return actions
    }

    // MARK: - Inputs

    /// An edge of the button or the cabinet switch (the kernel's timestamp).
    public mutating func edge(_ edge: GPIOEdge) -> [Action] {
        var actions = advance(to: edge.nanoseconds)
        let time = clock
        switch edge.input {
        case .button:
            if let level = button.edge(edge.active, at: time) {
                // A press the kernel dated before the last call ended belongs to that call.
                let late = lastCallEndedAt.map { edge.nanoseconds < $0 } ?? false
                buttonChanged(level, at: time, belongsToEndedCall: late, into: &actions)
            }
        case .tamper:
            if let level = tamper?.edge(edge.active, at: time) {
                cabinetChanged(level, into: &actions)
            }
        }
        return actions + lightsIfChanged()
    }

    /// The time passed: settles bounces, makes long presses and stuck buttons, ends calls that timed out, runs
    /// the self-test when due.
    public mutating func tick(at time: UInt64) -> [Action] {
        advance(to: time) + lightsIfChanged()
    }

    /// The centre answered the call (`call_ack`); `message` is spoken instead of `answeredMessage`. Answering an
    /// answered call again only speaks the message.
    public mutating func answer(message: String?, at time: UInt64) -> Result<[Action], Refusal> {
        var actions = advance(to: time)
        let time = clock
        guard var current = call else { return .failure(.noCall) }
        if current.answeredAt == nil {
            current.answeredAt = time
            call = current
            phase = .answered
            actions.append(
                .raise(.callAnswered(call: current.number, waited: Self.seconds(from: current.startedAt, to: time))))
        }
        if let text = message ?? settings.answeredMessage { actions.append(.speak(text)) }
        return .success(actions + lightsIfChanged())
    }

    /// The centre ended the call (`call_end`).
    public mutating func end(at time: UInt64) -> Result<[Action], Refusal> {
        var actions = advance(to: time)
        let time = clock
        guard call != nil else { return .failure(.noCall) }
        endCall(.centre, at: time, into: &actions)
        return .success(actions + lightsIfChanged())
    }

    /// A fault the fault LED shows appeared or cleared.
    public mutating func setFault(_ fault: Fault, _ present: Bool, at time: UInt64) -> [Action] {
        var actions = advance(to: time)
        if present { faults.insert(fault) } else { faults.remove(fault) }
        actions += lightsIfChanged()
        return actions
    }

    /// A self-test ran (on schedule or asked for): the next one is due an interval from now.
    public mutating func selfTestRan(at time: UInt64) {
        selfTestDue = max(clock, time) &+ Self.nanoseconds(settings.selfTestInterval)
    }

    /// When `tick` has something to do next (a bounce period ending, a long press, a stuck button, a call's
    /// timeout, the self-test); blinking LEDs are the service's.
    public var nextDeadline: UInt64 {
        var deadline = selfTestDue
        for candidate in [button.deadline, tamper?.deadline, longPressDeadline, stuckDeadline, timeoutDeadline] {
            if let candidate { deadline = min(deadline, candidate) }
        }
        return deadline
    }

    // MARK: - Transitions

    private var longPressDeadline: UInt64? {
        guard settings.press == .long, let pressedAt, !pressUsed else { return nil }
        return pressedAt &+ Self.nanoseconds(settings.longPress)
    }

    private var stuckDeadline: UInt64? {
        guard let pressedAt, !buttonStuck else { return nil }
        return pressedAt &+ Self.nanoseconds(settings.stuckAfter)
    }

    private var timeoutDeadline: UInt64? {
        call.map { $0.startedAt &+ Self.nanoseconds(settings.callTimeout) }
    }

    /// Everything due by `time`, in the order it fell due.
    private mutating func advance(to time: UInt64) -> [Action] {
        clock = max(clock, time)
        let time = clock
        var actions: [Action] = []
        while true {
            let due = nextDeadline
            guard due <= time else { break }
            if let level = button.tick(at: due) {
                buttonChanged(level, at: button.changedAt, into: &actions)
            } else if let level = tamper?.tick(at: due) {
                cabinetChanged(level, into: &actions)
            } else if let deadline = longPressDeadline, deadline <= due {
                pressUsed = true
                register(at: deadline, into: &actions)
            } else if let deadline = stuckDeadline, deadline <= due {
                buttonStuck = true
                pressUsed = true
                actions.append(.raise(.buttonStuck(held: Self.seconds(from: pressedAt!, to: deadline))))
            } else if let deadline = timeoutDeadline, deadline <= due {
                endCall(.timeout, at: deadline, into: &actions)
            } else if selfTestDue <= due {
                // It runs once however late the tick.
                selfTestRan(at: time)
                actions.append(.selfTest)
            } else {
                break
            }
        }
        return actions
    }

    private mutating func buttonChanged(
        _ pressed: Bool, at time: UInt64, belongsToEndedCall: Bool = false, into actions: inout [Action]
    ) {
        if pressed {
            pressedAt = time
            pressUsed = belongsToEndedCall
            if !belongsToEndedCall { accepted(pressAt: time, into: &actions) }
        } else {
            if buttonStuck, let start = pressedAt {
                buttonStuck = false
                actions.append(.raise(.buttonReleased(held: Self.seconds(from: start, to: time))))
            }
            pressedAt = nil
        }
    }

    /// An accepted press (the button's active edge).
    private mutating func accepted(pressAt time: UInt64, into actions: inout [Action]) {
        if var current = call {
            // A press during a call is counted in it; while the call waits, it hears the acknowledgement again.
            pressUsed = true
            current.presses += 1
            if current.answeredAt == nil,
                Self.elapsed(from: current.acknowledgedAt, to: time) >= Self.nanoseconds(settings.reassureInterval)
            {
                current.acknowledgedAt = time
                actions.append(.speak(settings.acknowledgement))
            }
            call = current
            return
        }
        switch settings.press {
        case .short:
            pressUsed = true
            register(at: time, into: &actions)
        case .long:
            break  // made when held long enough (`advance`)
        case .double:
            if let first = firstPressAt,
                Self.elapsed(from: first, to: time) <= Self.nanoseconds(settings.doublePressWindow)
            {
                firstPressAt = nil
                pressUsed = true
                register(at: time, into: &actions)
            } else {
                firstPressAt = time
            }
        }
    }

    private mutating func register(at time: UInt64, into actions: inout [Action]) {
        callsMade += 1
        firstPressAt = nil
        call = Call(number: callsMade, startedAt: time, answeredAt: nil, presses: 1, acknowledgedAt: time)
        phase = .registered
        // The LEDs first, then the voice, then the event: none of them waits on another.
        lights = computedLights()
        actions.append(.lights(lights))
        actions.append(.speak(settings.acknowledgement))
        actions.append(.raise(.callButton(call: callsMade, press: settings.press)))
    }

    private mutating func endCall(_ reason: CallPointEvent.EndReason, at time: UInt64, into actions: inout [Action]) {
        guard let ended = call else { return }
        call = nil
        phase = .idle
        lastCallEndedAt = time
        actions.append(
            .raise(
                .callEnded(
                    call: ended.number, reason: reason, duration: Self.seconds(from: ended.startedAt, to: time),
                    answered: ended.answeredAt != nil, presses: ended.presses)))
        if let text = settings.endedMessage { actions.append(.speak(text)) }
    }

    private mutating func cabinetChanged(_ open: Bool, into actions: inout [Action]) {
        cabinetOpen = open
        actions.append(.raise(open ? .cabinetOpened : .cabinetClosed))
    }

    // MARK: - LEDs

    /// The LEDs for the present state. The call LED: lit while a call waits (blinking when there is no answered
    /// LED), lit or off once answered (off when the answered LED takes over). The fault LED: fast for a stuck
    /// button, slow for another fault, steady for an open cabinet.
    private func computedLights() -> CallPointLights {
        var lights = CallPointLights()
        switch phase {
        case .idle: break
        case .registered: lights.call = hasAnsweredLED ? .on : .slowBlink
        case .answered:
            if hasAnsweredLED { lights.answered = .on } else { lights.call = .on }
        }
        if buttonStuck {
            lights.fault = .fastBlink
        } else if !faults.isEmpty {
            lights.fault = .slowBlink
        } else if cabinetOpen {
            lights.fault = .on
        }
        return lights
    }

    private mutating func lightsIfChanged() -> [Action] {
        let now = computedLights()
        guard now != lights else { return [] }
        lights = now
        return [.lights(now)]
    }

    // MARK: - Time

    /// Seconds as nanoseconds (negative and out-of-range values are clamped: settings are validated).
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds, 1e9) * 1e9)
    }

    /// Nanoseconds from `start` to `end`, 0 when `end` is earlier.
    static func elapsed(from start: UInt64, to end: UInt64) -> UInt64 { end >= start ? end - start : 0 }

    /// Seconds from `start` to `end`, 0 when `end` is earlier.
    static func seconds(from start: UInt64, to end: UInt64) -> Double { Double(elapsed(from: start, to: end)) / 1e9 }
}
