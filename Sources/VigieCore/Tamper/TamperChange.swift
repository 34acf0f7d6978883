/// What is wrong with the camera's view, when something is.
public enum TamperState: String, Sendable, Hashable, CaseIterable {
    /// The lens is covered (dark or a uniform surface) or blinded (saturated): the view lost its contrast.
    case covered
    /// The view kept its contrast but lost its fine detail: defocused, or sprayed with something translucent.
    case defocus
    /// Sharp and contrasted, but not the scene the camera was pointed at: turned or moved.
    case moved

    /// The event kind raised when this state begins.
    public var kind: String { "tamper_\(rawValue)" }
}

/// What the tamper detector measured on a frame: each figure is a ratio to the learned reference, so a global
/// change of light (dusk, street lights, the infrared switch) leaves them near 1.
public struct TamperMeasurement: Sendable, Hashable {
    /// Standard deviation of luma over the reference's (1 = as contrasted as the reference).
    public var contrast: Double
    /// Gradient energy over contrast, relative to the reference's (1 = as sharp).
    public var sharpness: Double
    /// Normalised correlation of the luma gradients with the reference's (1 = the same view, 0 = unrelated).
    public var correlation: Double
    /// Mean luma, 0…255 (to tell a dark cover from a bright one).
    public var luma: Double

    public init(contrast: Double, sharpness: Double, correlation: Double, luma: Double) {
        self.contrast = contrast
        self.sharpness = sharpness
        self.correlation = correlation
        self.luma = luma
    }
}

/// A change of the tamper state: a tampering began (`state` set) or the view is right again (`state` nil).
public struct TamperChange: Sendable, Hashable {
    /// The new state; `nil` when the view is back (`tamper_cleared`).
    public var state: TamperState?
    /// The state before; `nil` when it was normal.
    public var previous: TamperState?
    /// 0.5 (at the threshold) … 1 (far beyond it): how clearly the measurement says so.
    public var confidence: Double
    public var measurement: TamperMeasurement
    /// Frame (its sequence number) and time (seconds, the frames' clock) the change was decided at.
    public var frame: Int
    public var time: Double
    /// For a tampering raised: the frame and time it began, before `[tamper] hold` confirmed it (the first frame of
    /// the run of suspect frames that led to it; frames judged otherwise meanwhile count down, they do not restart
    /// it). `nil` for a clearing. Not sent to the centre: it is for review (`vigie analyze --events`).
    public var startFrame: Int?
    public var startTime: Double?
    /// For a clearing: how long the tampering lasted, in seconds.
    public var duration: Double
    /// For a clearing: why the tampering is over (`nil` for a tampering raised).
    public var reason: Reason?

    /// Why a tampering is no longer reported.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// The view is right again: back to the reference, with a margin, for `hold` seconds.
        case view
        /// The camera stayed moved for `[tamper] accept_moved_after` seconds: its new view is the reference now.
        /// Masks and zones may no longer lie over what they were drawn for.
        case accepted
        /// The configuration was reloaded with other masks, another grid or tamper detection off: the detector
        /// starts over and learns the view as it is now.
        case reload
        /// The camera came back at another size: the detector starts over and learns the view as it is now.
        case reconnect
    }

    public init(
        state: TamperState?, previous: TamperState?, confidence: Double, measurement: TamperMeasurement, frame: Int,
        time: Double, duration: Double = 0, reason: Reason? = nil, startFrame: Int? = nil, startTime: Double? = nil
    ) {
        self.state = state
        self.previous = previous
        self.confidence = confidence
        self.measurement = measurement
        self.frame = frame
        self.time = time
        self.duration = duration
        self.reason = reason ?? (state == nil ? .view : nil)
        self.startFrame = state == nil ? nil : startFrame
        self.startTime = state == nil ? nil : startTime
    }

    /// `tamper_covered`, `tamper_defocus`, `tamper_moved` or `tamper_cleared`.
    public var kind: String { state?.kind ?? "tamper_cleared" }
}
