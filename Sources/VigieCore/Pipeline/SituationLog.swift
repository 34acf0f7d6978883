/// Turns what the pipeline reports frame by frame (motion events, the rules' alerts and ends, tamper changes) into
/// situations with their real start and end, for review (`vigie analyze --events`):
/// - a motion event is one already;
/// - `intrusion`, `density_high` and `crowd_movement` run from the alert's start (the start of the dwell, of the
///   rise) to the last frame their condition held (`RuleEnd`), which is known only once it has stayed false for the
///   re-arm time (or the rule stopped watching);
/// - `abandoned_object` runs from the object's first still frame to its `abandoned_cleared`, paired by
///   `RuleAlert.object`;
/// - `line_crossing` and `wrong_way` are one frame;
/// - a tampering runs from where it began (`TamperChange.startFrame`, before `hold` confirmed it) to its
///   `tamper_cleared` (the clearing's reason kept), or to where the next kind began (which opens the next line at
///   that frame), when it turned into another without a clearing.
///
/// What is still open when the recording ends is closed by `finish` at the last frame read, as ongoing. Situations
/// are given in order of their end (then of their start): an end is known late (after the re-arm time, after the
/// tracker's quiet frames), so they are all kept until `finish`.
public struct SituationLog: Sendable {
    private var closed: [Situation] = []
    /// Open rule situations: zones' and crowd's (keyed by kind and rule) and abandoned objects (by `object`).
    private var open: [Situation] = []
    private var openObjects: [Int?] = []
    private var tampering: Situation?

    public init() {}

    /// How many situations are closed so far.
    public var count: Int { closed.count }

    /// A motion event the tracker ended; `ongoing` when it ended it because the recording did.
    public mutating func add(_ event: MotionEvent, ongoing: Bool = false) {
        closed.append(Situation(motion: event, ongoing: ongoing))
    }

    /// An alert a rule raised (or an object's clearing).
    public mutating func add(_ alert: RuleAlert) {
        switch alert.kind {
        case .lineCrossing, .wrongWay:
            closed.append(Situation(alert: alert))
        case .abandonedCleared:
            guard
                let index = openIndex(
                    kind: RuleAlert.Kind.abandonedObject.rawValue, rule: alert.rule, object: alert.object)
            else {
                // Its alert was never seen (a detector carried over): what it says is all there is.
                var situation = Situation(alert: alert)
                situation.kind = RuleAlert.Kind.abandonedObject.rawValue
                situation.alertFrame = nil
                situation.end(frame: alert.frame, time: alert.time, .gone)
                closed.append(situation)
                return
            }
            close(index, frame: alert.frame, time: alert.time, .gone)
        case .intrusion, .densityHigh, .crowdMovement, .abandonedObject:
            open.append(Situation(alert: alert))
            openObjects.append(alert.kind == .abandonedObject ? alert.object : nil)
        }
    }

    /// The end of a zone's or the crowd rule's situation.
    public mutating func add(_ end: RuleEnd) {
        guard let index = openIndex(kind: end.kind.rawValue, rule: end.rule, object: nil) else { return }
        close(index, frame: end.frame, time: end.time, .rule(end.reason))
    }

    /// A change of the tamper state. A clearing with no tampering seen (one carried over from another pipeline)
    /// has no start to give and is left out.
    public mutating func add(_ change: TamperChange) {
        let next = Situation(tampering: change)
        if var current = tampering {
            if let state = change.state, let next {
                // The view has been judged the new kind since that began: the previous one ends there.
                current.end(frame: next.startFrame, time: next.startTime, .became(state))
            } else {
                current.end(frame: change.frame, time: change.time, .cleared(change.reason ?? .view))
            }
            closed.append(current)
        }
        tampering = next
    }

    /// Closes what is still open at the last frame read (`frame`, `time`), as ongoing, and returns every situation
    /// in order of its end, then of its start, then as reported. The log is empty afterwards.
    public mutating func finish(frame: Int, time: Double) -> [Situation] {
        while !open.isEmpty { close(0, frame: frame, time: time, .ongoing) }
        if var current = tampering {
            current.end(frame: frame, time: time, .ongoing)
            closed.append(current)
            tampering = nil
        }
        let ordered = closed.enumerated().sorted {
            ($0.element.endFrame, $0.element.startFrame, $0.offset)
                < ($1.element.endFrame, $1.element.startFrame, $1.offset)
        }
        closed = []
        return ordered.map(\.element)
    }

    private func openIndex(kind: String, rule: String, object: Int?) -> Int? {
        open.indices.first { open[$0].kind == kind && open[$0].rule == rule && openObjects[$0] == object }
    }

    private mutating func close(_ index: Int, frame: Int, time: Double, _ ending: Situation.Ending) {
        var situation = open.remove(at: index)
        openObjects.remove(at: index)
        situation.end(frame: frame, time: time, ending)
        closed.append(situation)
    }
}
