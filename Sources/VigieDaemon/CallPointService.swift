import Logging
import Synchronization
import VigieCore
import VigieUplink

/// The emergency call point: the button's and the cabinet's lines read on a thread of their own, the `CallPoint`
/// state machine, and its actions carried out at once. The LEDs are set on that thread, the acknowledgement is
/// handed to the speaker and the `call_button` event to the outbox without waiting for either; the caller's masked
/// snapshot is encoded only after the event is on its way, and follows it as an item of its own.
///
/// GPIO lines that cannot be opened (a chip missing, a line held by another process) or that fail are a
/// `gpio_fault`, retried every `retryInterval`; the rest of the unit runs meanwhile.
final class CallPointService: Sendable {
    typealias Opener = @Sendable () throws(GPIOError) -> any GPIOLines

    /// What `vigie status` shows of the call point.
    struct Report: Sendable {
        var phase: CallPoint.Phase?
        var callID: String?
        var buttonStuck: Bool
        var cabinetOpen: Bool
        var lights: CallPointLights
        var fault: String?
    }

    private struct State {
        var lines: (any GPIOLines)?
        var machine: CallPoint?
        /// The `call_button` event id of each call still in progress.
        var callIDs: [Int: String] = [:]
        /// What each LED shows now (lit or not), to set a line only when it changes.
        var lit: [GPIOOutput: Bool] = [:]
        var fault: String?
        var faults: Set<CallPoint.Fault> = []
        /// Calls raised and not yet acknowledged by the broker, with the time of the edge that made them.
        var undelivered: [String: UInt64] = [:]
    }

    static let retryInterval = Duration.seconds(30)
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
    private let state = Mutex(State())
    private let stopping = Atomic<Bool>(false)
    private let stopped = WakeSignal()

    init(
        settings: CallPointSettings, open: @escaping Opener, events: EventSink, speaker: SpeakerService?,
        camera: CameraService, uplink: UplinkService?, logger: Logger
    ) {
        self.settings = settings
        self.open = open
        self.events = events
        self.speaker = speaker
        self.camera = camera
        self.uplink = uplink
        self.logger = logger
        events.observe { [weak self] event in
            switch event {
            case .speakerFault: self?.setFault(.speaker, true)
            case .speakerRestored: self?.setFault(.speaker, false)
            case .selfTest(let report, _):
                // A stuck button has its own pattern; the self-test's fault is about the other parts.
                self?.setFault(.selfTest, report.parts.contains { $0.name != "button" && $0.fault != nil })
            default: break
            }
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
            do throws(GPIOError) {
                let lines = try open()
                try begin(with: lines)
                if reported { logger.notice("call point: GPIO lines work again") }
                reported = false
                try serve(lines)
                lines.close()
                return
            } catch {
                state.withLock { state in
                    state.lines?.close()
                    state.lines = nil
                    state.machine = nil
                    state.fault = error.description
                }
                if !reported {
                    reported = true
                    logger.error(
                        "call point out of service: its GPIO lines fail; retried", metadata: ["error": "\(error)"])
                    events.raise(.gpioFault(reason: error.description))
                }
                let until = ContinuousClock.now + Self.retryInterval
                while !stopping.load(ordering: .acquiring) && ContinuousClock.now < until {
                    SystemCall.sleep(.milliseconds(200))
                }
            }
        }
    }

    private func begin(with lines: any GPIOLines) throws(GPIOError) {
        let button = try lines.isActive(.button)
        let cabinet = lines.inputs.contains(.tamper) ? try lines.isActive(.tamper) : nil
        let now = MonotonicClock.nanoseconds()
        state.withLock { state in
            var machine = CallPoint(
                settings: settings, hasAnsweredLED: lines.outputs.contains(.answeredLED), buttonActive: button,
                cabinetActive: cabinet, at: now)
            for fault in state.faults { _ = machine.setFault(fault, true, at: now) }
            state.lines = lines
            state.lit = [:]
            state.fault = nil
            let actions = machine.start()
            state.machine = machine
            perform(actions, in: &state)
        }
        try refreshLights(at: now)
    }

    /// Edges and time into the machine until `stop()`.
    private func serve(_ lines: any GPIOLines) throws(GPIOError) {
        while !stopping.load(ordering: .acquiring) {
            let now = MonotonicClock.nanoseconds()
            let wake = state.withLock { state -> UInt64 in
                var wake = now &+ Self.longestWait
                if let machine = state.machine {
                    wake = min(wake, machine.nextDeadline)
                    for output in GPIOOutput.allCases {
                        if let change = machine.lights[output].nextChange(after: now) { wake = min(wake, change) }
                    }
                }
                return wake
            }
            let timeout = Duration.nanoseconds(Int64(wake > now ? wake - now : 0))
            if let edge = try lines.nextEdge(timeout: timeout) {
                logger.debug("call point: edge", metadata: ["edge": "\(edge)"])
                state.withLock { state in
                    guard let actions = state.machine?.edge(edge) else { return }
                    perform(actions, in: &state, edgeTime: edge.nanoseconds)
                }
            } else {
                let time = MonotonicClock.nanoseconds()
                state.withLock { state in
                    guard let actions = state.machine?.tick(at: time) else { return }
                    perform(actions, in: &state)
                }
            }
            try refreshLights(at: MonotonicClock.nanoseconds())
        }
        state.withLock { state in
            state.machine = nil
            state.lines = nil
        }
    }

    /// Sets each LED the machine's patterns light or darken at `time`, if it changed.
    private func refreshLights(at time: UInt64) throws(GPIOError) {
        try state.withLock { state throws(GPIOError) in try applyLights(at: time, in: &state) }
    }

    private func applyLights(at time: UInt64, in state: inout State) throws(GPIOError) {
        guard let lines = state.lines, let machine = state.machine else { return }
        for output in lines.outputs {
            let lit = machine.lights[output].isLit(at: time)
            guard state.lit[output] != lit else { continue }
            try lines.set(output, lit: lit)
            state.lit[output] = lit
        }
    }

    // MARK: - Actions

    /// Carries out the machine's actions, in order, without waiting on the network, the disk or the speaker.
    /// `edgeTime`: the kernel's time of the edge that led to them, if an edge did.
    private func perform(_ actions: [CallPoint.Action], in state: inout State, edgeTime: UInt64? = nil) {
        for action in actions {
            switch action {
            case .lights:
                do {
                    try applyLights(at: MonotonicClock.nanoseconds(), in: &state)
                } catch {
                    // The thread's next turn fails the same way and reopens the lines.
                    logger.error("call point: an LED cannot be set", metadata: ["error": "\(error)"])
                }
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
        let streaming = camera.currentStatistics.cameraFault == nil && uplink != nil
        guard let id = events.raise(.callPoint(event, callID: nil, snapshot: streaming)) else { return }
        state.callIDs[call] = id
        if state.undelivered.count < 64 { state.undelivered[id] = edgeTime ?? MonotonicClock.nanoseconds() }
        guard streaming, let uplink else { return }
        // The call is on its way: now the picture of the caller, masked like every frame.
        let camera = self.camera
        let logger = self.logger
        Task {
            guard let jpeg = await camera.snapshot() else {
                logger.warning("call point: no snapshot of the caller (the camera has no frame)")
                return
            }
            uplink.sendSnapshot(jpeg, ofEvent: id, priority: Priority.emergency)
        }
    }

    /// The broker acknowledged an item (the uplink's delivery observer): for a call, logs how long it took from
    /// the button's edge (the kernel's timestamp) to the broker's PUBACK, the figure the call point promises.
    func delivered(topic: String, payload: [UInt8]) {
        guard topic.hasSuffix("/event/call_button"), let id = UplinkEvent.id(of: payload) else { return }
        let now = MonotonicClock.nanoseconds()
        guard let edge = state.withLock({ $0.undelivered.removeValue(forKey: id) }) else { return }
        let milliseconds = Double(now >= edge ? now - edge : 0) / 1e6
        logger.info(
            "call delivered",
            metadata: ["call": "\(id)", "edge_to_puback_ms": "\((milliseconds * 1000).rounded() / 1000)"])
    }

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
            guard var machine = state.machine else {
                return .failure(
                    CommandRefusal(
                        code: "callpoint_unavailable",
                        message: "the call point is out of service: \(state.fault ?? "starting")"))
            }
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
            if present { state.faults.insert(fault) } else { state.faults.remove(fault) }
            guard let actions = state.machine?.setFault(fault, present, at: MonotonicClock.nanoseconds()) else {
                return
            }
            perform(actions, in: &state)
        }
    }

    /// A self-test ran: the next scheduled one is an interval from now.
    func selfTestRan() {
        state.withLock { state in state.machine?.selfTestRan(at: MonotonicClock.nanoseconds()) }
    }

    /// The call point's part of a self-test: the lines answer (read the inputs, set the LEDs as they are), and
    /// the button is not stuck.
    func selfTestParts() -> [SelfTestReport.Part] {
        state.withLock { state in
            guard let lines = state.lines, let machine = state.machine else {
                return [SelfTestReport.Part("gpio", fault: state.fault ?? "starting")]
            }
            var gpio = SelfTestReport.Part("gpio")
            do throws(GPIOError) {
                for input in lines.inputs { _ = try lines.isActive(input) }
                for output in lines.outputs { try lines.set(output, lit: state.lit[output] ?? false) }
            } catch {
                gpio.fault = error.description
            }
            return [gpio, SelfTestReport.Part("button", fault: machine.buttonStuck ? "stuck" : nil)]
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
        state.withLock { state in
            guard let actions = state.machine?.edge(edge) else { return }
            perform(actions, in: &state)
        }
        return .success(())
    }

    var report: Report {
        state.withLock { state in
            Report(
                phase: state.machine?.phase,
                callID: state.machine?.call.flatMap { state.callIDs[$0.number] },
                buttonStuck: state.machine?.buttonStuck ?? false, cabinetOpen: state.machine?.cabinetOpen ?? false,
                lights: state.machine?.lights ?? CallPointLights(), fault: state.fault)
        }
    }
}
