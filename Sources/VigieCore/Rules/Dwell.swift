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

    /// The last frame on which the condition held in a raised situation that is over.
    struct Ended {
        var frame: Int
        var time: Double
    }

    /// What a frame decided.
    enum Step {
        case raised(Raised)
        case ended(Ended)
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

    init(dwell: Double, gap: Double, rearm: Double) {
        self.dwell = dwell
        self.gap = gap
        self.rearm = rearm
    }

    /// Starts afresh (disarmed, outside the schedule, a reset). Returns the end of the situation when one was
    /// raised.
    @discardableResult
    mutating func reset() -> Ended? {
        defer { state = .quiet }
        guard case .raised(let frame, let time) = state else { return nil }
        return Ended(frame: frame, time: time)
    }

    /// Takes one frame: whether the condition holds, and its measure (area, share). Returns the alert to raise when
    /// the dwell is complete on this frame, or the end of a raised situation once the condition has stayed false
    /// for `rearm` seconds.
    mutating func update(holds: Bool, measure: Double, frame: Int, time: Double) -> Step? {
        switch state {
        case .quiet:
            if holds { state = .dwelling(startFrame: frame, startTime: time, lastTrue: time, peak: measure) }
        case .dwelling(let startFrame, let startTime, let lastTrue, let peak):
            if holds {
                let peak = max(peak, measure)
                if time - startTime >= dwell {
                    state = .raised(lastTrueFrame: frame, lastTrue: time)
                    return .raised(Raised(startFrame: startFrame, startTime: startTime, peak: peak))
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
                return .ended(Ended(frame: lastTrueFrame, time: lastTrue))
            }
        }
        return nil
    }
}
