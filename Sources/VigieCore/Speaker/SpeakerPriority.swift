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

    /// The priority written `name` in a command (`rule`, `command`, `call_ack`), `nil` for any other.
    public init?(name: String) {
        guard let value = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = value
    }
}
