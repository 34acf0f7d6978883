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

    /// One warning that cannot sound, and why.
    public struct Problem: Sendable, Hashable {
        /// `zone` or `line`.
        public var place: String
        public var name: String
        public var why: String
    }

    /// The warnings of these zones and lines that cannot sound on this speaker (`nil`: the unit has none) with these
    /// clips: the configuration was checked against the file's `[speaker]`, but a reload keeps the running speaker
    /// and its clips until a restart.
    public static func problems(
        zones: [Zone], lines: [LineRule], speaker: SpeakerSettings?, clips: Set<String>
    ) -> [Problem] {
        let warned =
            zones.compactMap { zone in zone.warning.map { ("zone", zone.name, $0) } }
            + lines.compactMap { line in line.warning.map { ("line", line.name, $0) } }
        return warned.compactMap { place, name, warning in
            let why: String?
            switch (warning, speaker) {
            case (_, nil):
                why = "the running unit has no speaker (a restart applies [speaker])"
            case (.say(let text), let speaker?):
                let limit = speaker.queue.maximumTextLength
                why = text.count > limit ? "\(text.count) characters; the running speaker says at most \(limit)" : nil
            case (.play(let clip), _):
                why = clips.contains(clip) ? nil : "no clip '\(clip)' in clips_dir (clips are read at start)"
            }
            return why.map { Problem(place: place, name: name, why: $0) }
        }
    }

    /// Who asked, as the speaker's cool-down and the `announcement` event's `why` know it: `rule:zone:<name>` or
    /// `rule:line:<name>` (a zone and a line may share a name).
    public static func source(of alert: RuleAlert) -> String {
        if let line = alert.line { return "rule:line:\(line)" }
        return "rule:zone:\(alert.zone ?? alert.rule)"
    }
}
