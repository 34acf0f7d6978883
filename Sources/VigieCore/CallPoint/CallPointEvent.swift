/// What the call point reports to the centre (through `UnitEvent.callPoint`). Times are seconds.
public enum CallPointEvent: Sendable, Hashable {
    /// Why a call ended.
    public enum EndReason: String, Sendable, Hashable {
        /// The centre's `call_end`.
        case centre
        /// `CallPointSettings.callTimeout` passed.
        case timeout
    }

    /// A call was registered: someone pressed the button (`press` says how: short, long, double). Its masked
    /// snapshot follows as an item of its own.
    case callButton(call: Int, press: CallPointSettings.PressMode)
    /// The centre answered (`call_ack`) after `waited` seconds.
    case callAnswered(call: Int, waited: Double)
    /// The call ended; `presses` counts every press of the call, the first included.
    case callEnded(call: Int, reason: EndReason, duration: Double, answered: Bool, presses: Int)
    /// The button was held longer than `CallPointSettings.stuckAfter`: no call until it is released.
    case buttonStuck(held: Double)
    /// A stuck button came back, after `held` seconds.
    case buttonReleased(held: Double)
    /// The cabinet's door switch opened / closed.
    case cabinetOpened
    case cabinetClosed

    /// The call this event belongs to, if any.
    public var call: Int? {
        switch self {
        case .callButton(let call, _), .callAnswered(let call, _), .callEnded(let call, _, _, _, _): call
        case .buttonStuck, .buttonReleased, .cabinetOpened, .cabinetClosed: nil
        }
    }
}
