/// How urgent a spoken message is. A higher one interrupts a lower one that is playing.
public enum SpeakerPriority: Int, Sendable, Hashable, Comparable, CaseIterable {
    /// A local rule's warning (someone in the school yard at night).
    case rule = 0
    /// An operator's `say` or `play` from the centre.
    case command = 1
    /// "Your call went through": the person at the call point must hear it, even in quiet hours.
    case callAcknowledgement = 2

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// As written in commands and events.
    public var name: String {
        switch self {
        case .rule: "rule"
        case .command: "command"
        case .callAcknowledgement: "call_ack"
        }
    }

    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }
}

/// What a message says: a text spoken by a voice, or a recorded clip by its id.
public enum SpeakerContent: Sendable, Hashable {
    case text(String, voice: String)
    case clip(String)
}

/// A message for the speaker, before it is queued.
public struct SpeakerMessage: Sendable, Hashable {
    /// Unique; named in the `queued` reply and the `announcement` event.
    public var id: String
    public var content: SpeakerContent
    public var priority: SpeakerPriority
    /// Who asked, as the cool-down knows them: a rule's name, a command's request id.
    public var source: String
    /// How many times it is played, 1 to `SpeakerQueue.maximumRepeat`.
    public var repeatCount: Int

    public init(
        id: String, content: SpeakerContent, priority: SpeakerPriority, source: String, repeatCount: Int = 1
    ) {
        self.id = id
        self.content = content
        self.priority = priority
        self.source = source
        self.repeatCount = repeatCount
    }
}

/// What was said or played, once it is over: the `announcement` event's content.
public struct Announcement: Sendable, Hashable {
    public var message: SpeakerMessage
    /// When its first sound (the chime, or the message) started, on the queue's clock.
    public var startTime: Double
    /// Seconds from its start to its end.
    public var duration: Double
    /// How many times the message itself was played through (0 if interrupted during the chime or the first).
    public var timesPlayed: Int
    /// A higher-priority message, a fault or a stop cut it short.
    public var interrupted: Bool
    /// It reached the maximum duration: what was left was not played.
    public var truncated: Bool

    public init(
        message: SpeakerMessage, startTime: Double, duration: Double, timesPlayed: Int, interrupted: Bool,
        truncated: Bool
    ) {
        self.message = message
        self.startTime = startTime
        self.duration = duration
        self.timesPlayed = timesPlayed
        self.interrupted = interrupted
        self.truncated = truncated
    }
}
