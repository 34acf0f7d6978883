/// The state of a camera connection, as a state machine whose transitions return what to do. No threads,
/// no devices: the capture adapter feeds it what happened and carries out the actions.
///
/// streaming → stalled (no frame within the stall timeout) → lost (device gone, or still stalled after
/// `stallsBeforeLost` timeouts) → reopening with capped backoff → streaming. A device that opens but must not
/// be streamed (another aspect ratio than the masks were drawn for) is refused: closed and retried as after a
/// loss, reported once until it changes.
public struct CameraLink: Sendable {
    public enum State: Sendable, Equatable {
        case streaming
        case stalled(timeouts: Int)
        case lost
        /// The device opened but was refused; what was reported (`mismatch`).
        case refused(CameraCondition)
    }

    /// What the adapter must do.
    public enum Action: Sendable, Equatable {
        /// Tell the centre: stalled, lost or restored, with the reason.
        case report(CameraCondition, reason: String)
        /// Close the device and try to open it again after this many seconds.
        case reopen(after: Double)
        /// The first frames after a reconnect must not raise motion: re-learn the background.
        case relearn
    }

    public private(set) var state = State.streaming
    public let stallsBeforeLost: Int
    private var backoff: Backoff

    public init(stallsBeforeLost: Int = 3, backoff: Backoff = Backoff(initial: 0.5, maximum: 30, jitter: 0.2)) {
        self.stallsBeforeLost = max(1, stallsBeforeLost)
        self.backoff = backoff
    }

    /// A frame arrived.
    public mutating func frameArrived() -> [Action] {
        switch state {
        case .streaming: return []
        case .stalled:
            state = .streaming
            return [.report(.restored, reason: "frames again after a stall"), .relearn]
        case .lost, .refused:
            state = .streaming
            backoff.reset()
            return [.report(.restored, reason: "reopened"), .relearn]
        }
    }

    /// No frame within the stall timeout.
    public mutating func timedOut(seconds: Double) -> [Action] {
        switch state {
        case .streaming:
            state = .stalled(timeouts: 1)
            return [.report(.stalled, reason: "no frame for \(seconds) s")]
        case .stalled(let timeouts) where timeouts + 1 >= stallsBeforeLost:
            state = .lost
            return [
                .report(.lost, reason: "stalled for \(Double(timeouts + 1) * seconds) s"),
                .reopen(after: backoff.next()),
            ]
        case .stalled(let timeouts):
            state = .stalled(timeouts: timeouts + 1)
            return []
        case .lost, .refused:
            return [.reopen(after: backoff.next())]
        }
    }

    /// The device failed (`ENODEV`, `EIO`, unplugged, driver unbound) or could not be opened again.
    public mutating func failed(reason: String) -> [Action] {
        if state == .lost { return [.reopen(after: backoff.next())] }
        state = .lost
        return [.report(.lost, reason: reason), .reopen(after: backoff.next())]
    }

    /// The device opened but must not be streamed (`camera_mismatch`: another aspect ratio than commissioned).
    /// Reported once while the same refusal repeats; retried with backoff in case the camera is set right or
    /// replaced.
    public mutating func refused(_ condition: CameraCondition, reason: String) -> [Action] {
        let repeated = state == .refused(condition)
        state = .refused(condition)
        return (repeated ? [] : [.report(condition, reason: reason)]) + [.reopen(after: backoff.next())]
    }
}
