import Logging
import Synchronization
import VigieCore
import VigieUplink

/// The emergency call point: the button's and the cabinet's lines read on a thread of their own, the `CallPoint`
/// state machine, and its actions carried out at once. The LEDs are set on that thread, the acknowledgement is
/// handed to the speaker and the `call_button` event to the outbox without waiting for either; the caller's masked
/// snapshot is encoded only after the event is on its way, and follows it as an item of its own.
///
/// The machine lives as long as the service: GPIO lines that cannot be opened (a chip missing, a line held by
/// another process) or that fail are a `gpio_fault`, retried every `retryInterval` (`gpio_restored` when they
/// work again), and meanwhile the call in progress goes on (the centre can still answer and end it) and the
/// self-test stays on schedule. Raising happens under the state lock, so that events leave in the order the
/// machine made them; `EventSink` observers never call back into the service synchronously.
final class CallPointService: Sendable {
    typealias Opener = @Sendable () throws(GPIOError) -> any GPIOLines

    /// What `vigie status` shows of the call point.
    struct Report: Sendable {
        var phase: CallPoint.Phase
        var callID: String?
        var buttonStuck: Bool
        var cabinetOpen: Bool
        var lights: CallPointLights
        var fault: String?
    }

    private struct State {
        var lines: (any GPIOLines)?
        var machine: CallPoint
        /// The `call_button` event id of each call still in progress.
        var callIDs: [Int: String] = [:]
        /// What each LED shows now (lit or not), to set a line only when it changes.
        var lit: [GPIOOutput: Bool] = [:]
        /// The pattern each LED shows and since when: a blink starts lit, whatever the clock.
        var shown: [GPIOOutput: (pattern: LEDPattern, since: UInt64)] = [:]
        /// Why the lines do not work (`nil` while they do).
        var fault: String?
        /// Why an LED cannot be set (the button is still read).
        var ledFault: String?
        /// Calls raised and not yet acknowledged by the broker, with the time of the edge that made them.
        var undelivered: [String: UInt64] = [:]
    }

    static let retryInterval = Duration.seconds(5)
    /// The longest the thread sleeps: a blink a command started begins within it.
    static let longestWait: UInt64 = 250_000_000

    private let settings: CallPointSettings
    private let open: Opener
    private let events: EventSink
    private let speaker: SpeakerService?
    private let camera: CameraService
    private let uplink: UplinkService?
    /// Runs the unit's self-test (set by the daemon before `start`).
    private let selfTest = Mutex<(@Sendable () async -> Void)?>(nil)
    private let logger: Logger
    private let state: Mutex<State>
    private let stopping = Atomic<Bool>(false)
    private let stopped = WakeSignal()

    /// `lines` are the roles `[gpio]` configures (whether there is an answered LED, a cabinet switch).
    init(
        settings: CallPointSettings, lines: GPIOSettings, open: @escaping Opener, events: EventSink,
        speaker: SpeakerService?, camera: CameraService, uplink: UplinkService?, logger: Logger
    ) {
        // Until the lines are open: the button released, the cabinet closed (`resynchronize` reads them).
        state = Mutex(
            State(
                machine: CallPoint(
                    settings: settings, hasAnsweredLED: lines.answeredLED != nil, buttonActive: false,
                    cabinetActive: lines.tamper == nil ? nil : false, at: MonotonicClock.nanoseconds())))
        self.settings = settings
        self.open = open
        self.events = events
        self.speaker = speaker
        self.camera = camera
        self.uplink = uplink
        self.logger = logger
        // Observers must not call back synchronously (an event may be raised under this service's lock).
        events.observe { [weak self] event in
            let change: (CallPoint.Fault, Bool)? =
                switch event {
                case .speakerFault: (.speaker, true)
                case .speakerRestored: (.speaker, false)
                // A stuck button has its own pattern; the self-test's fault is about the other parts.
                case .selfTest(let report, _):
                    (.selfTest, report.parts.contains { $0.name != "button" && $0.fault != nil })
                default: nil
                }
            guard let change, let self else { return }
            Task { self.setFault(change.0, change.1) }
        }
    }

    /// Starts the thread that reads the lines; `selfTest` runs the unit's self-test when it is due.
    func start(selfTest: @escaping @Sendable () async -> Void) {
        self.selfTest.withLock { $0 = selfTest }
        OSThread.detach("vigie-callpoint") { [self] in
            run()
            stopped.post()
        }
    }

    /// Stops the thread (within `longestWait`), turns the LEDs off and releases the lines.
    func stop() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        stopped.wait(for: .seconds(2))
    }

    // MARK: - The thread

    private func run() {
        var reported = false
        while !stopping.load(ordering: .acquiring) {
            var opened: (any GPIOLines)?
            do throws(GPIOError) {
                let lines = try open()
                opened = lines
                let levels = try begin(with: lines)
                if reported {
                    logger.notice("call point: its GPIO lines work again", metadata: levels)
                    events.raise(.gpioRestored)
                } else {
                    // From here a press is a call (the rig's tests wait for this line before pressing).
                    logger.info("call point ready", metadata: levels)
                }
                reported = false
                try serve(lines)
                lines.close()
                return
            } catch {
                // Released whether or not `begin` got as far as keeping them (a line left requested stays busy).
                opened?.close()
                state.withLock { state in
                    state.lines = nil
                    state.lit = [:]
                    state.fault = error.description
                }
                if !reported {
                    reported = true
                    logger.error(
                        "call point: its GPIO lines fail; the call in progress goes on, the lines are retried",
                        metadata: ["error": "\(error)"])
                    events.raise(.gpioFault(reason: error.description))
                }
                // Time goes on for the machine meanwhile: a call's timeout, the self-test (which reports this).
                let until = ContinuousClock.now + Self.retryInterval
                while !stopping.load(ordering: .acquiring) && ContinuousClock.now < until {
                    SystemCall.sleep(.milliseconds(200))
                    let now = MonotonicClock.nanoseconds()
                    state.withLock { state in perform(state.machine.tick(at: now), in: &state) }
                }
            }
        }
    }

    /// The lines are open: the machine takes their levels (the call in progress kept). Returns them, for the log.
    private func begin(with lines: any GPIOLines) throws(GPIOError) -> Logger.Metadata {
        let button = try lines.isActive(.button)
        let cabinet = lines.inputs.contains(.tamper) ? try lines.isActive(.tamper) : nil
        let now = MonotonicClock.nanoseconds()
        state.withLock { state in
            state.lines = lines
            state.lit = [:]
            state.fault = nil
            perform(state.machine.resynchronize(buttonActive: button, cabinetActive: cabinet, at: now), in: &state)
        }
        var levels: Logger.Metadata = ["button": button ? "held" : "released"]
        if let cabinet { levels["cabinet"] = cabinet ? "open" : "closed" }
        return levels
    }

    /// Edges and time into the machine until `stop()`.
    private func serve(_ lines: any GPIOLines) throws(GPIOError) {
        while !stopping.load(ordering: .acquiring) {
            let now = MonotonicClock.nanoseconds()
            let wake = state.withLock { state -> UInt64 in
                var wake = min(now &+ Self.longestWait, state.machine.nextDeadline)
                for (pattern, since) in state.shown.values {
                    if let change = pattern.nextChange(after: now &- since) { wake = min(wake, since &+ change) }
                }
                return wake
            }
            let timeout = Duration.nanoseconds(Int64(wake > now ? wake - now : 0))
            if let edge = try lines.nextEdge(timeout: timeout) {
                logger.debug("call point: edge", metadata: ["edge": "\(edge)"])
                state.withLock { state in
                    perform(state.machine.edge(edge), in: &state, edgeTime: edge.nanoseconds)
                }
            } else {
                let time = MonotonicClock.nanoseconds()
                state.withLock { state in perform(state.machine.tick(at: time), in: &state) }
            }
            state.withLock { state in applyLights(at: MonotonicClock.nanoseconds(), in: &state) }
        }
        state.withLock { $0.lines = nil }
    }

    /// Sets each LED the machine's patterns light or darken at `time`, if it changed. An LED that cannot be set is
    /// reported once (the self-test says so too); the button is still read.
    private func applyLights(at time: UInt64, in state: inout State) {
        guard let lines = state.lines else { return }
        for output in lines.outputs {
            let pattern = state.machine.lights[output]
            if state.shown[output]?.pattern != pattern { state.shown[output] = (pattern, time) }
            let lit = pattern.isLit(at: time &- (state.shown[output]?.since ?? time))
            guard state.lit[output] != lit else { continue }
            do throws(GPIOError) {
                try lines.set(output, lit: lit)
                state.lit[output] = lit
                if state.ledFault != nil {
                    state.ledFault = nil
                    logger.notice("call point: the LEDs can be set again")
                }
            } catch {
                if state.ledFault == nil {
                    logger.error("call point: an LED cannot be set", metadata: ["error": "\(error)"])
                }
                state.ledFault = error.description
            }
        }
    }

    // MARK: - Actions

    /// Carries out the machine's actions, in order, without waiting on the network, the disk or the speaker.
    /// `edgeTime`: the kernel's time of the edge that led to them, if an edge did.
    private func perform(_ actions: [CallPoint.Action], in state: inout State, edgeTime: UInt64? = nil) {
        for action in actions {
            switch action {
            case .lights:
                applyLights(at: MonotonicClock.nanoseconds(), in: &state)
            case .speak(let text):
                guard let speaker else {
                    logger.warning("call point: no speaker to say the acknowledgement")
                    continue
                }
                let logger = self.logger
                Task {
                    if case .failure(let refusal) = await speaker.say(
                        text: text, voice: nil, priority: .callAcknowledgement, repeatCount: 1, why: "callpoint")
                    {
                        logger.error(
                            "call point: the acknowledgement cannot be said", metadata: ["error": "\(refusal.message)"])
                    }
                }
            case .raise(let event):
                raise(event, in: &state, edgeTime: edgeTime)
            case .selfTest:
                guard let selfTest = selfTest.withLock({ $0 }) else { continue }
                Task { await selfTest() }
            }
        }
    }

    private func raise(_ event: CallPointEvent, in state: inout State, edgeTime: UInt64?) {
        guard case .callButton(let call, _) = event else {
            let callID = event.call.flatMap { state.callIDs[$0] }
            if case .callEnded(let call, _, _, _, _) = event { state.callIDs[call] = nil }
            events.raise(.callPoint(event, callID: callID, snapshot: false))
            return
        }
        // A camera starting up gives its first frame within the snapshot's wait; one out of service gives none.
        let snapshot = camera.currentStatistics.cameraFault == nil && uplink != nil
        let unitEvent = UnitEvent.callPoint(event, callID: nil, snapshot: snapshot)
        guard let id = events.raise(unitEvent) else { return }
        state.callIDs[call] = id
        if state.undelivered.count < 64 { state.undelivered[id] = edgeTime ?? MonotonicClock.nanoseconds() }
        guard snapshot, let uplink else { return }
        // The call is on its way: now the picture of the caller, masked like every frame, with the call's priority.
        let camera = self.camera
        let logger = self.logger
        Task {
            guard let jpeg = await camera.snapshot() else {
                logger.warning(
                    "call point: no snapshot of the caller (the camera gave no frame)", metadata: ["call": "\(id)"])
                return
            }
            uplink.sendSnapshot(jpeg, ofEvent: id, priority: unitEvent.priority)
        }
    }

    /// The broker acknowledged an item (the uplink's delivery observer): for a call, logs how long it took from
    /// the button's edge (the kernel's timestamp) to the broker's PUBACK, the figure the call point promises.
    func delivered(topic: String, payload: [UInt8]) {
        guard topic.hasSuffix(Self.callTopicSuffix), let id = UplinkEvent.id(of: payload) else { return }
        let now = MonotonicClock.nanoseconds()
        guard let edge = state.withLock({ $0.undelivered.removeValue(forKey: id) }) else { return }
        let milliseconds = Double(now >= edge ? now - edge : 0) / 1e6
        logger.info(
            "call delivered",
            metadata: ["call": "\(id)", "edge_to_puback_ms": "\((milliseconds * 1000).rounded() / 1000)"])
    }

    private static let callTopicSuffix =
        "/event/" + UnitEvent.callPoint(.callButton(call: 0, press: .short), callID: nil, snapshot: false).kind

    // MARK: - Commands and faults

    /// The centre answers the call (`call_ack`), or ends it (`call_end`). `callID` must name the call in progress
    /// when given.
    func answer(callID: String?, message: String?) -> Result<String, CommandRefusal> {
        command(callID: callID) { machine, time in machine.answer(message: message, at: time) }
    }

    func end(callID: String?) -> Result<String, CommandRefusal> {
        command(callID: callID) { machine, time in machine.end(at: time) }
    }

    /// Runs `body` on the machine; returns the call's id.
    private func command(
        callID: String?,
        _ body: (inout CallPoint, UInt64) -> Result<[CallPoint.Action], CallPoint.Refusal>
    ) -> Result<String, CommandRefusal> {
        let result = state.withLock { state -> Result<String, CommandRefusal> in
            // With the lines out of service the call goes on: the centre can still answer and end it.
            var machine = state.machine
            guard let call = machine.call else {
                return .failure(CommandRefusal(code: "no_call", message: CallPoint.Refusal.noCall.description))
            }
            // Without an uplink a call has no event id.
            let id = state.callIDs[call.number] ?? ""
            if let callID, callID != id {
                return .failure(
                    CommandRefusal(code: "unknown_call", message: "'\(callID)' is not the call in progress (\(id))"))
            }
            switch body(&machine, MonotonicClock.nanoseconds()) {
            case .success(let actions):
                state.machine = machine
                perform(actions, in: &state)
                return .success(id)
            case .failure(let refusal):
                return .failure(CommandRefusal(code: "no_call", message: refusal.description))
            }
        }
        return result
    }

    /// A fault the fault LED shows (the speaker's, the self-test's).
    func setFault(_ fault: CallPoint.Fault, _ present: Bool) {
        state.withLock { state in
            perform(state.machine.setFault(fault, present, at: MonotonicClock.nanoseconds()), in: &state)
        }
    }

    /// A self-test ran: the next scheduled one is an interval from now.
    func selfTestRan() {
        state.withLock { state in state.machine.selfTestRan(at: MonotonicClock.nanoseconds()) }
    }

    /// The call point's part of a self-test: the lines answer (read the inputs, set the LEDs as they are), and
    /// the button is not stuck.
    func selfTestParts() -> [SelfTestReport.Part] {
        state.withLock { state in
            let button = SelfTestReport.Part("button", fault: state.machine.buttonStuck ? "stuck" : nil)
            guard let lines = state.lines else {
                return [SelfTestReport.Part("gpio", fault: state.fault ?? "starting"), button]
            }
            var gpio = SelfTestReport.Part("gpio")
            do throws(GPIOError) {
                for input in lines.inputs { _ = try lines.isActive(input) }
                for output in lines.outputs { try lines.set(output, lit: state.lit[output] ?? false) }
            } catch {
                gpio.fault = error.description
            }
            return [gpio, button]
        }
    }

    /// `vigie callpoint simulate press|hold|release`: the button as a hand would move it. On simulated lines the
    /// edge goes through the lines like a real one; on real lines straight into the machine.
    func simulate(buttonActive: Bool) -> Result<Void, CommandRefusal> {
        let lines = state.withLock { $0.lines }
        guard let lines else {
            return .failure(CommandRefusal(code: "callpoint_unavailable", message: "the call point is out of service"))
        }
        if let simulated = lines as? SimulatedGPIO {
            do throws(GPIOError) {
                try simulated.drive(.button, active: buttonActive)
            } catch {
                return .failure(CommandRefusal(code: "gpio_fault", message: error.description))
            }
            return .success(())
        }
        let edge = GPIOEdge(.button, active: buttonActive, nanoseconds: MonotonicClock.nanoseconds())
        state.withLock { state in perform(state.machine.edge(edge), in: &state) }
        return .success(())
    }

    var report: Report {
        state.withLock { state in
            Report(
                phase: state.machine.phase, callID: state.machine.call.flatMap { state.callIDs[$0.number] },
                buttonStuck: state.machine.buttonStuck, cabinetOpen: state.machine.cabinetOpen,
                lights: state.machine.lights, fault: state.fault ?? state.ledFault)
        }
    }
}
