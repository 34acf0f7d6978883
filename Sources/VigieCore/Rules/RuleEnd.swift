/// The end of a situation a zone rule or the crowd rule raised an alert for: when its condition last held.
///
/// It is for review (`vigie analyze --events`, through `SituationLog`), never an event of its own: the unit does not
/// send it, and the centre's event set does not change. `RuleEngine.ends` holds those the last frame decided.
public struct RuleEnd: Sendable, Hashable {
    /// Why the situation is over.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The condition stayed false for the rule's re-arm time: the zone can raise again.
        case quiet
        /// The rule stopped watching while the situation was raised: disarmed, the zone's schedule ended, or a reset
        /// (camera reconnect).
        case stopped
    }

    /// The kind of the alert that raised it: `intrusion`, `density_high` or `crowd_movement`.
    public var kind: RuleAlert.Kind
    /// The rule's name, as on the alert (the zone's name, or `crowd`).
    public var rule: String
    /// The last frame on which the condition held, and its time (seconds from the start of the stream).
    public var frame: Int
    public var time: Double
    public var reason: Reason

    public init(kind: RuleAlert.Kind, rule: String, frame: Int, time: Double, reason: Reason) {
        self.kind = kind
        self.rule = rule
        self.frame = frame
        self.time = time
        self.reason = reason
    }
}
