/// The speaker's queue, as a state machine whose transitions return what to do. No threads, no sound: the
/// speaker service feeds it requests, the ends of what it played and the time, and carries out the actions.
///
/// One message plays at a time, as parts: an optional chime, then the message `repeatCount` times (with a short
/// gap before each repetition). Waiting messages are ordered by priority, then by arrival. A message of higher
/// priority than the one playing interrupts it (which is announced as interrupted); the same or lower waits.
/// A rule's source cannot be heard again within the cool-down; in quiet hours only call acknowledgements are
/// accepted; a text longer than `maximumTextLength` is refused; a message is cut at `maximumDuration` seconds.
///
/// Times are seconds on one clock the caller chooses (the tests' own; the daemon's wall clock, so that an
/// announcement's start time can be told to the centre); `minuteOfDay` is the local time, for quiet hours.
public struct SpeakerQueue: Sendable {
    /// Limits and habits of one unit's speaker (from `[speaker]`).
    public struct Settings: Sendable, Hashable {
        /// Longest text accepted, in characters.
        public var maximumTextLength = 500
        /// Longest a message may sound, chime and repetitions included, in seconds.
        public var maximumDuration = 60.0
        /// Seconds a rule's warning stays unheard again after it was accepted.
        public var ruleCooldown = 60.0
        /// When only call acknowledgements are played; `nil`: never quiet.
        public var quietHours: QuietHours?
        /// Play a short chime before each message.
        public var chime = true
        /// Silence before each repetition, in seconds.
        public var repeatGap = 1.0
        /// Messages waiting (not counting the one playing) beyond which requests are refused.
        public var maximumWaiting = 8

        /// The defaults: 500 characters, 60 s, 60 s of cool-down, a chime, 1 s between repetitions, 8 waiting.
        public init() {}
    }

    /// Why a request was refused; nothing changed.
    public enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        case textTooLong(length: Int, limit: Int)
        case emptyText
        case invalidRepeat(Int)
        case quietHours(QuietHours)
        case coolingDown(source: String, remaining: Double)
        case queueFull(limit: Int)
        case duplicateID(String)

        public var description: String {
            switch self {
            case .textTooLong(let length, let limit): "the text is \(length) characters; the limit is \(limit)"
            case .emptyText: "the text is empty"
            case .invalidRepeat(let count):
                "repeat \(count) is out of range (1 to \(SpeakerQueue.maximumRepeat))"
            case .quietHours(let hours): "quiet hours (\(hours.description)): only call acknowledgements are played"
            case .coolingDown(let source, let remaining):
                "'\(source)' was heard less than a cool-down ago; \(Int(remaining.rounded(.up))) s to wait"
            case .queueFull(let limit): "\(limit) messages are already waiting"
            case .duplicateID(let id): "message '\(id)' is already queued"
            }
        }
    }

    /// One sound to play.
    public struct Part: Sendable, Hashable {
        /// What part of the message it is.
        public enum Kind: Sendable, Hashable {
            case chime
            /// The message itself, its `repetition`th time (from 1).
            case message(repetition: Int)
        }
        /// Names this part in `partEnded` / `partFailed`; a stale token (an interrupted part) is ignored.
        public var token: Int
        /// The message it belongs to.
        public var message: SpeakerMessage
        /// The chime or which repetition.
        public var kind: Kind
        /// Silence to play first, in seconds.
        public var leadingSilence: Double
        /// Play at most this many seconds of it (the rest of the message's maximum duration).
        public var limit: Double
    }

    /// What the speaker service must do, in order.
    public enum Action: Sendable, Hashable {
        /// Play this part; call `partEnded` (or `partFailed`) with its token when done.
        case play(Part)
        /// Stop the part with this token at once (a higher-priority message is next).
        case interrupt(token: Int)
        /// A message is over: tell the centre (`announcement` event).
        case announce(Announcement)
        /// A waiting message was dropped without being played (the speaker failed).
        case dropped(SpeakerMessage)
    }

    /// Most times a message can be played in one request.
    public static let maximumRepeat = 5

    /// The limits it applies.
    public let settings: Settings
    /// The message playing, the part and when the message started.
    public private(set) var current: (part: Part, started: Double, timesPlayed: Int)?
    /// Waiting, in the order they will play.
    public private(set) var waiting: [SpeakerMessage] = []
    /// When each rule's source was last accepted.
    private var lastHeard: [String: Double] = [:]
    private var nextToken = 1

    /// An empty, idle queue.
    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Whether nothing is playing or waiting.
    public var isIdle: Bool { current == nil && waiting.isEmpty }

    /// Why a message of `priority` from `source` would be refused now whatever it says (quiet hours, the rule's
    /// cool-down), so that no speech is synthesized for nothing; `nil` if it would not be for these reasons.
    public func refusal(priority: SpeakerPriority, source: String, now: Double, minuteOfDay: Int) -> Refusal? {
        if priority < .callAcknowledgement, let hours = settings.quietHours, hours.contains(minuteOfDay: minuteOfDay) {
            return .quietHours(hours)
        }
        if priority == .rule, let last = lastHeard[source], now - last < settings.ruleCooldown {
            return .coolingDown(source: source, remaining: settings.ruleCooldown - (now - last))
        }
        return nil
    }

    /// A new request. Returns what to do, or why it is refused (nothing changed then).
    public mutating func submit(
        _ message: SpeakerMessage, now: Double, minuteOfDay: Int
    ) -> Result<[Action], Refusal> {
        if case .text(let text, _) = message.content {
            let length = text.count
            if length > settings.maximumTextLength {
                return .failure(.textTooLong(length: length, limit: settings.maximumTextLength))
            }
            if text.allSatisfy(\.isWhitespace) { return .failure(.emptyText) }
        }
        guard (1...Self.maximumRepeat).contains(message.repeatCount) else {
            return .failure(.invalidRepeat(message.repeatCount))
        }
        if let refusal = refusal(priority: message.priority, source: message.source, now: now, minuteOfDay: minuteOfDay)
        {
            return .failure(refusal)
        }
        if current?.part.message.id == message.id || waiting.contains(where: { $0.id == message.id }) {
            return .failure(.duplicateID(message.id))
        }
        let preempts = current.map { message.priority > $0.part.message.priority } ?? false
        if !preempts && current != nil && waiting.count >= settings.maximumWaiting {
            return .failure(.queueFull(limit: settings.maximumWaiting))
        }
        if message.priority == .rule { lastHeard[message.source] = now }
        // Behind every message of the same or higher priority, ahead of the lower ones.
        let index = waiting.firstIndex(where: { $0.priority < message.priority }) ?? waiting.endIndex
        waiting.insert(message, at: index)
        var actions: [Action] = []
        if preempts, let playing = current {
            actions.append(.interrupt(token: playing.part.token))
            actions.append(.announce(finish(now: now, interrupted: true, truncated: false)))
        }
        if current == nil { actions += startNext(now: now) }
        return .success(actions)
    }

    /// The part with `token` played to its end.
    public mutating func partEnded(token: Int, now: Double) -> [Action] {
        guard let playing = current, playing.part.token == token else { return [] }
        var timesPlayed = playing.timesPlayed
        let next: Int
        switch playing.part.kind {
        case .chime: next = 1
        case .message(let repetition):
            timesPlayed = repetition
            next = repetition + 1
        }
        current?.timesPlayed = timesPlayed
        let elapsed = now - playing.started
        let message = playing.part.message
        if next > message.repeatCount {
            return [.announce(finish(now: now, interrupted: false, truncated: false))] + startNext(now: now)
        }
        let gap = next > 1 ? settings.repeatGap : 0
        let remaining = settings.maximumDuration - elapsed
        guard remaining > gap + 0.05 else {
            return [.announce(finish(now: now, interrupted: false, truncated: true))] + startNext(now: now)
        }
        let part = Part(
            token: takeToken(), message: message, kind: .message(repetition: next), leadingSilence: gap,
            limit: remaining - gap)
        current?.part = part
        return [.play(part)]
    }

    /// The part with `token` could not be played (the device failed): the message ends as interrupted, and every
    /// waiting message is dropped (the speaker service reports the fault and refuses requests until it is back).
    public mutating func partFailed(token: Int, now: Double) -> [Action] {
        guard let playing = current, playing.part.token == token else { return [] }
        var actions: [Action] = [.announce(finish(now: now, interrupted: true, truncated: false))]
        actions += waiting.map { .dropped($0) }
        waiting.removeAll()
        return actions
    }

    /// The part with `token` could not be played for a reason of its own (its clip's file is gone or damaged): the
    /// message ends as interrupted and the next one plays; the device is not at fault.
    public mutating func partSkipped(token: Int, now: Double) -> [Action] {
        guard let playing = current, playing.part.token == token else { return [] }
        return [.announce(finish(now: now, interrupted: true, truncated: false))] + startNext(now: now)
    }

    /// Whether the part playing has been heard for as long as allowed (the service's watchdog, for a player that
    /// does not cut by itself): if so, interrupts it and goes on.
    public mutating func tick(now: Double) -> [Action] {
        guard let playing = current, now - playing.started >= settings.maximumDuration + 1 else { return [] }
        return [
            .interrupt(token: playing.part.token), .announce(finish(now: now, interrupted: false, truncated: true)),
        ] + startNext(now: now)
    }

    private mutating func finish(now: Double, interrupted: Bool, truncated: Bool) -> Announcement {
        let playing = current!
        current = nil
        return Announcement(
            message: playing.part.message, startTime: playing.started, duration: max(0, now - playing.started),
            timesPlayed: playing.timesPlayed, interrupted: interrupted, truncated: truncated)
    }

    private mutating func startNext(now: Double) -> [Action] {
        guard current == nil, !waiting.isEmpty else { return [] }
        let message = waiting.removeFirst()
        let kind: Part.Kind = settings.chime ? .chime : .message(repetition: 1)
        let part = Part(
            token: takeToken(), message: message, kind: kind, leadingSilence: 0, limit: settings.maximumDuration)
        current = (part, now, 0)
        return [.play(part)]
    }

    private mutating func takeToken() -> Int {
        defer { nextToken += 1 }
        return nextToken
    }
}
