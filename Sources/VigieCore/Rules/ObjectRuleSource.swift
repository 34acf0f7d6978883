/// `ObjectRules` (lines, abandoned objects) as one of the `RuleEngine`'s sources: it reads the regions from the
/// `RuleFrame` and the grid of cell means from the detector the frame came from, so it runs under the unit's
/// arming like every rule. Disarming forgets the tracks and the abandoned-object reference: on re-arming, the
/// scene in view is the reference again.
final class ObjectRuleSource: RuleSource {
    let rules: ObjectRules
    private unowned let detector: MotionDetector

    init(rules: ObjectRules, detector: MotionDetector) {
        self.rules = rules
        self.detector = detector
    }

    func update(_ frame: RuleFrame) -> [RuleAlert] {
        detector.withGrid { rules.update(boxes: frame.boxes, grid: $0, frame: frame.frame, time: frame.time) }
    }

    func reset() { rules.reset() }
}
