/// The dwell of a zone's rule: a condition that must hold for `dwell` seconds (gaps up to `gap` forgiven) before
/// one alert, then nothing until it has stayed false for `rearm` seconds, which ends the situation. Shared by
/// `IntrusionRule` and `DensityRule`.
struct Dwell {
    /// When the condition began and the largest measure seen meanwhile: what the alert reports.
    struct Raised {
        var startFrame: Int
        var startTime: Double
        var peak: Double
    }

    private enum State {
        case quiet
        case dwelling(startFrame: Int, startTime: Double, lastTrue: Double, peak: Double)
        case raised(lastTrueFrame: Int, lastTrue: Double)
    }

    let dwell: Double
    let gap: Double
    let rearm: Double
    private var state = State.quiet
    /// The end of the last raised situation (the last frame its condition held, and why it is over), until
    /// `collectEnd` takes it.
    private var ended: (frame: Int, time: Double, reason: RuleEnd.Reason)?

    init(dwell: Double, gap: Double, rearm: Double) {
        self.dwell = dwell
        self.gap = gap
        self.rearm = rearm
    }

    /// Starts afresh (disarmed, outside the schedule, a reset); a raised situation ends (`stopped`).
    mutating func reset() {
        if case .raised(let frame, let time) = state { ended = (frame, time, .stopped) }
        state = .quiet
    }

    /// Appends the end of the last raised situation, if one ended since the last call, as `kind`'s of `rule`.
    mutating func collectEnd(kind: RuleAlert.Kind, rule: String, into ends: inout [RuleEnd]) {
        guard let ended else { return }
        ends.append(RuleEnd(kind: kind, rule: rule, frame: ended.frame, time: ended.time, reason: ended.reason))
        self.ended = nil
    }

    /// Takes one frame: whether the condition holds, and its measure (area, share). Returns what to raise when the
    /// dwell is complete on this frame; a raised situation whose condition has stayed false for `rearm` seconds
    /// ends (`quiet`: see `collectEnd`).
    mutating func update(holds: Bool, measure: Double, frame: Int, time: Double) -> Raised? {
        switch state {
        case .quiet:
            if holds { state = .dwelling(startFrame: frame, startTime: time, lastTrue: time, peak: measure) }
        case .dwelling(let startFrame, let startTime, let lastTrue, let peak):
            if holds {
                let peak = max(peak, measure)
                if time - startTime >= dwell {
                    state = .raised(lastTrueFrame: frame, lastTrue: time)
                    return Raised(startFrame: startFrame, startTime: startTime, peak: peak)
                }
                state = .dwelling(startFrame: startFrame, startTime: startTime, lastTrue: time, peak: peak)
            } else if time - lastTrue > gap {
                state = .quiet
            }
        case .raised(let lastTrueFrame, let lastTrue):
            if holds {
                state = .raised(lastTrueFrame: frame, lastTrue: time)
            } else if time - lastTrue >= rearm {
                state = .quiet
                ended = (lastTrueFrame, lastTrue, .quiet)
            }
        }
        return nil
    }
}
