/// How a unit's emergency call point behaves (`[callpoint]`): what counts as a press, how long a call may last,
/// what the caller hears, how often the unit checks itself. The defaults suit a street call point.
public struct CallPointSettings: Sendable, Hashable {
    /// What makes a call.
    public enum PressMode: String, Sendable, Hashable, CaseIterable {
        /// One press, registered on its first edge (no waiting: the call leaves at once).
        case short
        /// A press held `longPress` seconds (a button children lean on in passing).
        case long
        /// Two presses within `doublePressWindow` seconds.
        case double
    }

    public var press = PressMode.short
    /// Edges within this many seconds of an accepted change are bounces: the contact settles first.
    public var debounce = 0.05
    /// Seconds a press must be held in `long` mode.
    public var longPress = 2.0
    /// Seconds within which the second press must come in `double` mode.
    public var doublePressWindow = 1.5
    /// A button held longer than this many seconds is stuck: one `button_stuck`, no call until released.
    public var stuckAfter = 30.0
    /// Seconds after which a call ends by itself (answered or not): `call_ended` with reason `timeout`.
    public var callTimeout = 900.0
    /// A press while the call waits for an answer repeats the acknowledgement, at most once per this many seconds.
    public var reassureInterval = 15.0
    /// Seconds between self-tests (EN 81-28: at most 3 days apart).
    public var selfTestInterval = 86_400.0
    /// Spoken when the call is registered.
    public var acknowledgement = "Votre appel a été transmis. Un opérateur va vous répondre."
    /// Spoken when the centre answers (`call_ack` may bring its own); `nil`: nothing.
    public var answeredMessage: String? = "Un opérateur a pris votre appel."
    /// Spoken when the call ends; `nil`: nothing.
    public var endedMessage: String? = nil

    /// The longest `selfTestInterval` accepted: 3 days.
    public static let maximumSelfTestInterval = 3 * 86_400.0

    /// The defaults: a short press, 50 ms of debounce, stuck after 30 s, calls of at most 15 min, a self-test a day.
    public init() {}
}
