/// A human's decision on an alert, sent by the centre (`cmd/alert_confirm`, `cmd/alert_dismiss`) and recorded
/// with the alert in the event store: the unit itself decides nothing.
public struct AlertVerdict: Sendable, Hashable {
    /// The id of the event decided on.
    public var event: String
    /// Confirmed (a real situation) or dismissed (a false alarm).
    public var confirmed: Bool
    /// Who decided, as the centre names its operator (1 to 64 characters).
    public var operatorName: String
    /// Why, in the operator's words (at most 500 characters).
    public var note: String?

    public init(event: String, confirmed: Bool, operatorName: String, note: String? = nil) {
        self.event = event
        self.confirmed = confirmed
        self.operatorName = operatorName
        self.note = note
    }

    /// `confirmed` or `dismissed`, as `vigie events` shows it.
    public var word: String { confirmed ? "confirmed" : "dismissed" }
}
