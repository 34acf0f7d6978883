/// `crowd_movement`: the moving share of the watched image rises by at least `jump` within `window` seconds and
/// stays up (three quarters of the rise at least) for `hold` seconds: one alert, then nothing until the share has
/// stayed back near where it started for `rearm` seconds. That ends the situation (as does a reset): its end, the
/// last frame the share was still up (half the jump above where it rose from), is given to `collectEnds(into:)` for
/// review, not raised.
///
/// The share is the detector's regions' area over the watched area; a frame taken as a light change has none, so
/// lights, the IR switch and dusk never count. A sweep (headlights) that passes within `hold` does not hold.
public final class CrowdRule: RuleSource {
    public let settings: CrowdSettings

    private enum State {
        case watching
        case rising(startFrame: Int, startTime: Double, base: Double, peak: Double)
        case raised(base: Double, lastUpFrame: Int, lastUp: Double)
    }
    private var state = State.watching
    private var ended: RuleEnd?
    /// Recent (time, share) samples, oldest first, covering `window` seconds.
    private var history: [(time: Double, share: Double)] = []

    /// The share measured on the last frame (0…1).
    public private(set) var share = 0.0

    public init(settings: CrowdSettings) {
        self.settings = settings
        history.reserveCapacity(256)
    }

    public func reset() {
        if case .raised(_, let frame, let time) = state {
            ended = RuleEnd(kind: .crowdMovement, rule: "crowd", frame: frame, time: time, reason: .stopped)
        }
        state = .watching
        history.removeAll(keepingCapacity: true)
        share = 0
    }

    public func collectEnds(into ends: inout [RuleEnd]) {
        if let ended { ends.append(ended) }
        ended = nil
    }

    public func update(_ frame: RuleFrame) -> [RuleAlert] {
        var moving = 0.0
        for box in frame.boxes { moving += box.area }
        share = frame.watchedArea > 0 ? min(1, moving / frame.watchedArea) : 0
        var base = share
        for sample in history { base = min(base, sample.share) }
        defer {
            if let first = history.first, frame.time - first.time > settings.window || history.count >= 256 {
                history.removeFirst()
            }
            history.append((frame.time, share))
        }
        switch state {
        case .watching:
            if share - base >= settings.jump {
                state = .rising(startFrame: frame.frame, startTime: frame.time, base: base, peak: share)
            }
        case .rising(let startFrame, let startTime, let base, let peak):
            guard share - base >= 0.75 * settings.jump else {
                state = .watching
                return []
            }
            let peak = max(peak, share)
            if frame.time - startTime >= settings.hold {
                state = .raised(base: base, lastUpFrame: frame.frame, lastUp: frame.time)
                return [
                    RuleAlert(
                        kind: .crowdMovement, rule: "crowd", boxes: Array(frame.boxes.prefix(16).map(\.rect)),
                        confidence: RuleAlert.confidence(
                            peak - base, threshold: settings.jump, full: 2 * settings.jump),
                        startFrame: startFrame, startTime: startTime, frame: frame.frame, time: frame.time)
                ]
            }
            state = .rising(startFrame: startFrame, startTime: startTime, base: base, peak: peak)
        case .raised(let base, let lastUpFrame, let lastUp):
            if share - base >= 0.5 * settings.jump {
                state = .raised(base: base, lastUpFrame: frame.frame, lastUp: frame.time)
            } else if frame.time - lastUp >= settings.rearm {
                state = .watching
                ended = RuleEnd(kind: .crowdMovement, rule: "crowd", frame: lastUpFrame, time: lastUp, reason: .quiet)
            }
        }
        return []
    }
}
