import Logging
import Synchronization
import VigieAudio
import VigieCore
import VigieUplink

#if canImport(Glibc)
    import Glibc
#endif

/// The unit's voice: owns the speaker queue and the output device, plays each part on a thread of its own, and
/// tells the centre what was said (`announcement`) and when the speaker fails or comes back.
///
/// Requests are checked before they are queued (clip known, text length, voice, quiet hours, cool-down) so the
/// reply is precise; a device that cannot be opened makes the speaker unavailable until a probe opens it again.
actor SpeakerService {
    /// Why a request was not queued.
    typealias Refusal = CommandRefusal

    /// Seconds on the queue's clock (wall clock, so that start times mean something to the centre) and the local
    /// minute of the day (quiet hours).
    typealias Clock = @Sendable () -> (seconds: Double, minuteOfDay: Int)

    let settings: SpeakerSettings
    let clips: ClipLibrary
    private let output: SpeakerOutput
    private let events: EventSink
    private let logger: Logger
    private let clock: Clock
    private var queue: SpeakerQueue
    /// Why the speaker cannot play (`nil` while it can).
    private(set) var fault: String?
    /// The rule sources whose warning is being synthesized now.
    private var synthesizing: Set<String> = []
    /// Synthesized speech waiting to be played, by message id.
    private var speech: [String: PCMAudio] = [:]
    /// Why each queued message was asked for (`command:<request id>`, `callpoint`, `rule:zone:<name>`,
    /// `rule:line:<name>`).
    private var reasons: [String: String] = [:]
    /// When each message's request reached the speaker, until its first sound (for the latency in the log).
    private var arrivals: [String: ContinuousClock.Instant] = [:]
    private var counter = 0
    private var probing: Task<Void, Never>?
    /// Shared with the playing threads.
    private final class Gate: Sendable {
        /// The token of the part allowed to sound; a playing thread whose token is no longer it stops.
        let playing = Atomic<Int>(0)
        /// One part sounds at a time: a thread that starts while an interrupted one finishes its last period waits.
        let device = Mutex<Void>(())
    }
    private let gate = Gate()
    /// How often a failed device is tried again.
    static let probeInterval = Duration.seconds(5)

    init(
        settings: SpeakerSettings, clips: ClipLibrary, events: EventSink, logger: Logger,
        clock: @escaping Clock = SpeakerService.wallClock
    ) {
        self.settings = settings
        self.output = SpeakerOutput(settings.output)
        self.events = events
        self.logger = logger
        self.clock = clock
        self.queue = SpeakerQueue(settings: settings.queue)
        self.clips = clips
    }

    /// The clips of `[speaker] clips_dir`; each file skipped is logged by name.
    static func loadClips(_ settings: SpeakerSettings, logger: Logger) -> ClipLibrary {
        guard let folder = settings.clipsDirectory else { return ClipLibrary() }
        let clips = ClipLibrary.load(directory: folder)
        for problem in clips.problems {
            logger.warning(
                "speaker clip skipped", metadata: ["file": "\(problem.file)", "reason": "\(problem.reason)"])
        }
        return clips
    }

    /// Opens the device once (a fault is reported if it cannot be), sets the volume.
    func start() {
        if let device = settings.mixerDevice, let control = settings.mixerControl, let volume = settings.volume {
            do {
                try MixerVolume.set(card: device, control: control, percent: volume)
            } catch {
                logger.warning("speaker volume not set", metadata: ["error": "\(error)"])
            }
        }
        do {
            try output.probe()
            logger.info(
                "speaker ready",
                metadata: [
                    "output": "\(describe(output))", "clips": "\(clips.clips.count)", "voice": "\(settings.voice)",
                ])
        } catch {
            failed(error.description)
        }
    }

    func stop() {
        probing?.cancel()
        gate.playing.store(0, ordering: .releasing)
    }

    /// What the speaker is and whether it works, for `selftest` and `vigie doctor`.
    struct Report: Sendable {
        var output: String
        var fault: String?
        var clips: Int
    }

    var report: Report { Report(output: describe(output), fault: fault, clips: clips.clips.count) }

    /// The self-test's look at the speaker: when nothing is playing, the output is opened again (a USB card
    /// unplugged while idle is found now, not by the next caller); a failure is a `speaker_fault`.
    func check() async -> Report {
        if fault == nil, gate.playing.load(ordering: .acquiring) == 0 {
            let output = self.output
            let result: Result<Void, AudioError> = await Self.offThread {
                Result { () throws(AudioError) in try output.probe() }
            }
            if case .failure(let error) = result, gate.playing.load(ordering: .acquiring) == 0 {
                failed(error.description)
            }
        }
        return report
    }

    // MARK: - Requests

    /// Queues `text` spoken by `voice` (the configured one if `nil`); returns the message id.
    func say(
        text: String, voice: String?, priority: SpeakerPriority, repeatCount: Int, why: String
    ) async -> Result<String, Refusal> {
        let arrival = ContinuousClock.now
        if let fault { return .failure(Refusal(code: "speaker_unavailable", message: fault)) }
        guard !text.allSatisfy(\.isWhitespace) else {
            return .failure(Refusal(code: "invalid_field", message: "the text is empty"))
        }
        let length = text.count
        guard length <= settings.queue.maximumTextLength else {
            return .failure(
                Refusal(
                    code: "text_too_long",
                    message: "the text is \(length) characters; the limit is \(settings.queue.maximumTextLength)"))
        }
        // Refused for the hour or the cool-down: said before synthesis, which costs a Pi a tenth of a second or more.
        // A rule's warning already being synthesized holds back the same rule's next one (two people crossing).
        let now = clock()
        if let refusal = queue.refusal(priority: priority, source: why, now: now.seconds, minuteOfDay: now.minuteOfDay)
        {
            return .failure(Self.refusal(refusal))
        }
        if priority == .rule {
            guard synthesizing.insert(why).inserted else {
                return .failure(Refusal(code: "cooling_down", message: "'\(why)' is being prepared already"))
            }
        }
        defer { if priority == .rule { synthesizing.remove(why) } }
        let voice = voice ?? settings.voice
        let rate = settings.wordsPerMinute
        let limit = settings.queue.maximumDuration
        let synthesized: Result<PCMAudio, AudioError> = await Self.offThread {
            Result { () throws(AudioError) in
                try SpeechSynthesizer.synthesize(text, voice: voice, wordsPerMinute: rate, maximumSeconds: limit)
            }
        }
        let audio: PCMAudio
        switch synthesized {
        case .success(let value): audio = value
        case .failure(.unknownVoice(let name)):
            return .failure(Refusal(code: "unknown_voice", message: "espeak-ng has no voice '\(name)'"))
        case .failure(let error):
            return .failure(Refusal(code: "speaker_unavailable", message: error.description))
        }
        let message = SpeakerMessage(
            id: nextID(), content: .text(text, voice: voice), priority: priority, source: why,
            repeatCount: repeatCount)
        speech[message.id] = audio
        arrivals[message.id] = arrival
        return submit(message, why: why)
    }

    /// Whether a rule's warning from `source` is being synthesized now.
    func isPreparing(_ source: String) -> Bool { synthesizing.contains(source) }

    /// Queues the clip `clip`; returns the message id.
    func play(clip: String, repeatCount: Int, priority: SpeakerPriority, why: String) -> Result<String, Refusal> {
        if let fault { return .failure(Refusal(code: "speaker_unavailable", message: fault)) }
        guard clips.clips[clip] != nil else {
            let known = clips.clips.keys.sorted().prefix(20).joined(separator: ", ")
            return .failure(
                Refusal(
                    code: "unknown_clip",
                    message: "no clip '\(clip)' on this unit (clips: \(known.isEmpty ? "none" : known))"))
        }
        let message = SpeakerMessage(
            id: nextID(), content: .clip(clip), priority: priority, source: why, repeatCount: repeatCount)
        arrivals[message.id] = .now
        return submit(message, why: why)
    }

    private func submit(_ message: SpeakerMessage, why: String) -> Result<String, Refusal> {
        let now = clock()
        switch queue.submit(message, now: now.seconds, minuteOfDay: now.minuteOfDay) {
        case .success(let actions):
            reasons[message.id] = why
            logger.info("speaker message queued", metadata: ["message": "\(message.id)", "why": "\(why)"])
            apply(actions)
            return .success(message.id)
        case .failure(let refusal):
            speech[message.id] = nil
            arrivals[message.id] = nil
            return .failure(Self.refusal(refusal))
        }
    }

    /// The queue's refusal as the command's reply gives it.
    private static func refusal(_ refusal: SpeakerQueue.Refusal) -> Refusal {
        let code =
            switch refusal {
            case .textTooLong: "text_too_long"
            case .emptyText, .invalidRepeat: "invalid_field"
            case .quietHours: "quiet_hours"
            case .coolingDown: "cooling_down"
            case .queueFull: "speaker_busy"
            case .duplicateID: "duplicate"
            }
        return Refusal(code: code, message: refusal.description)
    }

    private func nextID() -> String {
        counter += 1
        return "msg-\(Int64(clock().seconds * 1000))-\(counter)"
    }

    // MARK: - Playing

    private func apply(_ actions: [SpeakerQueue.Action]) {
        for action in actions {
            switch action {
            case .play(let part): start(part)
            case .interrupt: gate.playing.store(0, ordering: .releasing)
            case .announce(let announcement): announced(announcement)
            case .dropped(let message):
                speech[message.id] = nil
                arrivals[message.id] = nil
                reasons[message.id] = nil
                logger.warning("speaker message dropped", metadata: ["message": "\(message.id)"])
            }
        }
    }

    private func start(_ part: SpeakerQueue.Part) {
        gate.playing.store(part.token, ordering: .releasing)
        let sound: PCMAudio?
        switch part.kind {
        case .chime: sound = Self.chime
        case .message:
            if case .text = part.message.content { sound = speech[part.message.id] } else { sound = nil }
        }
        let clip: String? = if case .clip(let id) = part.message.content, case .message = part.kind { id } else { nil }
        let library = clips
        let output = self.output
        let gate = self.gate
        let token = part.token
        let arrival = arrivals.removeValue(forKey: part.message.id)
        let logger = self.logger
        let messageID = part.message.id
        OSThread.detach("vigie-speaker") { [self] in
            let outcome: PartOutcome = gate.device.withLock { _ in
                guard gate.playing.load(ordering: .acquiring) == token else { return .played }
                var audio = sound ?? PCMAudio(sampleRate: 22050, channels: 1, samples: [])
                if let clip {
                    do throws(WAVError) {
                        guard let read = try library.audio(id: clip) else { return .skipped("no clip '\(clip)'") }
                        audio = read
                    } catch {
                        return .skipped(error.description)
                    }
                }
                let frames = Int(part.limit * Double(audio.sampleRate)) * audio.channels
                if audio.samples.count > frames { audio.samples.removeLast(audio.samples.count - frames) }
                do throws(AudioError) {
                    try output.play(
                        audio, leadingSilence: part.leadingSilence,
                        shouldStop: { gate.playing.load(ordering: .acquiring) != token },
                        firstFrame: {
                            guard let arrival else { return }
                            logger.info(
                                "speaker first audio",
                                metadata: [
                                    "message": "\(messageID)",
                                    "latency_ms": "\(Self.milliseconds(ContinuousClock.now - arrival))",
                                ])
                        })
                    return .played
                } catch {
                    return .failed(error)
                }
            }
            Task { await self.ended(token: token, outcome: outcome) }
        }
    }

    /// How a part's thread ended.
    private enum PartOutcome: Sendable {
        case played
        /// Not the device's fault: the clip's file is gone or damaged since it was listed.
        case skipped(String)
        case failed(AudioError)
    }

    private func ended(token: Int, outcome: PartOutcome) {
        let now = clock().seconds
        switch outcome {
        case .played:
            apply(queue.partEnded(token: token, now: now))
        case .skipped(let reason):
            logger.error("speaker clip unreadable; message skipped", metadata: ["reason": "\(reason)"])
            apply(queue.partSkipped(token: token, now: now))
        case .failed(let error):
            let actions = queue.partFailed(token: token, now: now)
            guard !actions.isEmpty else { return }
            apply(actions)
            failed(error.description)
        }
    }

    private func announced(_ announcement: Announcement) {
        let id = announcement.message.id
        let why = reasons.removeValue(forKey: id) ?? "unknown"
        speech[id] = nil
        arrivals[id] = nil
        logger.info(
            "speaker message ended",
            metadata: [
                "message": "\(id)", "duration_s": "\(UnitEvent.rounded(announcement.duration))",
                "interrupted": "\(announcement.interrupted)",
            ])
        events.raise(.announcement(announcement, why: why))
    }

    // MARK: - Faults

    private func failed(_ reason: String) {
        guard fault == nil else { return }
        fault = reason
        logger.error("speaker unavailable", metadata: ["reason": "\(reason)"])
        events.raise(.speakerFault(reason: reason, output: describe(output)))
        probing = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.probeInterval)
                if Task.isCancelled { return }
                if await self.probe() { return }
            }
        }
    }

    private func probe() async -> Bool {
        let output = self.output
        let result: Result<Void, AudioError> = await Self.offThread {
            Result { () throws(AudioError) in try output.probe() }
        }
        guard case .success = result else { return false }
        fault = nil
        logger.notice("speaker restored", metadata: ["output": "\(describe(output))"])
        events.raise(.speakerRestored(output: describe(output)))
        return true
    }

    private func describe(_ output: SpeakerOutput) -> String {
        switch output {
        case .pcm(let name): name
        case .file(let path): "file:\(path)"
        }
    }

    // MARK: - Events (one function each, so each kind is built in one place)

    // MARK: - Helpers

    /// A two-note chime (E5 then A5, 0.45 s), before each message.
    static let chime: PCMAudio = {
        let first = PCMAudio.tone(frequency: 659.3, seconds: 0.18, amplitude: 0.25)
        let second = PCMAudio.tone(frequency: 880, seconds: 0.27, amplitude: 0.25)
        return PCMAudio(sampleRate: first.sampleRate, channels: 1, samples: first.samples + second.samples)
    }()

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Runs blocking work (synthesis, opening a device) on a thread of its own and waits for it.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            OSThread.detach("vigie-speaker") { continuation.resume(returning: body()) }
        }
    }

    /// The wall clock, and the local minute of the day.
    @Sendable static func wallClock() -> (seconds: Double, minuteOfDay: Int) {
        let millis = UplinkService.nowMillis()
        var seconds = time_t(millis / 1000)
        var local = tm()
        localtime_r(&seconds, &local)
        return (Double(millis) / 1000, Int(local.tm_hour) * 60 + Int(local.tm_min))
    }
}
