/// What the unit's speaker says or plays, on its own, when a zone's or a line's rule raises an alert: a warning to
/// the people on the spot ("Vous êtes dans une zone surveillée"), never an accusation of one of them. It is spoken
/// with the `rule` priority, so an operator's message and a call point's acknowledgement go first; the speaker's
/// cool-down (per zone or line) and quiet hours apply to it.
public enum RuleWarning: Sendable, Hashable {
    /// A French text for espeak-ng, in the speaker's voice (`say = "…"`).
    case say(String)
    /// A recorded clip from `[speaker] clips_dir`, by its id (`play = "…"`).
    case play(String)

    /// The warning `alert` sounds with these zones and lines: an intrusion's or a density's zone warns when its
    /// alert is raised; a line warns on `wrong_way`, and on every crossing when either way is allowed (`any`).
    /// Abandoned objects, crowd movement and tamper raise no warning.
    public static func sounded(by alert: RuleAlert, zones: [Zone], lines: [LineRule]) -> RuleWarning? {
        switch alert.kind {
        case .intrusion, .densityHigh:
            return zones.first { $0.name == alert.zone && $0.kind != .motion }?.warning
        case .wrongWay:
            return lines.first { $0.name == alert.line }?.warning
        case .lineCrossing:
            guard let line = lines.first(where: { $0.name == alert.line }), line.direction == .any else { return nil }
            return line.warning
        case .abandonedObject, .abandonedCleared, .crowdMovement:
            return nil
        }
    }

    /// Who asked, as the speaker's cool-down and the `announcement` event's `why` know it: `rule:zone:<name>` or
    /// `rule:line:<name>` (a zone and a line may share a name).
    public static func source(of alert: RuleAlert) -> String {
        if let line = alert.line { return "rule:line:\(line)" }
        return "rule:zone:\(alert.zone ?? alert.rule)"
    }
}
