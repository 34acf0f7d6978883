import Logging
import Synchronization
import VigieCore
import VigieStore
import VigieUplink

/// The one path of the daemon's events (`UnitEvent`, typed: kind, priority and details are decided there): each is
/// handed to the uplink (which numbers, stores and publishes it), recorded in the local event store (with or
/// without an uplink, off the caller's thread), logged with its id, and kept among the last few for
/// `vigie status`.
final class EventSink: Sendable {
    struct Recent: Sendable {
        var id: String
        var kind: String
        var priority: Int
        var millis: Int64
    }

    static let recentCount = 10
    let uplink: UplinkService?
    private let logger: Logger
    private let recent = Mutex<[Recent]>([])
    private let observers = Mutex<[@Sendable (UnitEvent) -> Void]>([])

    /// The local event store's writer (`nil` only in tests without one; while the store is not open, events wait
    /// in its memory).
    let recorder: EventRecorder?
    private let deviceID: String
    /// Ids for the events of a unit without an uplink (which numbers them otherwise).
    private let localIDs = Mutex(EventIDGenerator())

    init(uplink: UplinkService?, recorder: EventRecorder? = nil, deviceID: String = "", logger: Logger) {
        self.uplink = uplink
        self.logger = logger
        self.recorder = recorder
        self.deviceID = deviceID
        // Every event the uplink numbers, its own reports included, as the centre receives it.
        if let recorder {
            uplink?.observeRaised { event, raised in
                recorder.record(
                    StoredEvent(
                        id: raised.id, sequence: raised.sequence, millis: raised.millis, kind: event.kind,
                        priority: event.priority, zone: event.zone, boxes: event.boxes, payload: raised.payload),
                    snapshot: event.snapshot)
            }
        }
        // The uplink's own reports (storage, overflow, quarantine, its own faults) are among the last events too;
        // the uplink logs them itself.
        uplink?.observeReports { [weak self] event, id in
            self?.remember(
                Recent(id: id, kind: event.kind, priority: event.priority, millis: UplinkService.nowMillis()))
        }
    }

    private func remember(_ event: Recent) {
        recent.withLock { recent in
            recent.insert(event, at: 0)
            if recent.count > Self.recentCount { recent.removeLast() }
        }
    }

    /// Raises `event` without waiting for its commit (the camera must not wait). Returns its id, `nil` without an
    /// uplink.
    @discardableResult
    func raise(_ event: UnitEvent) -> String? {
        let id = uplink?.raise(event.uplinkEvent)
        noted(event, id: id)
        return id
    }

    /// Raises `event` and returns once it is stored (see `UplinkService.raiseStored`).
    func raiseStored(_ event: UnitEvent) async -> String? {
        let id = await uplink?.raiseStored(event.uplinkEvent)
        noted(event, id: id)
        return id
    }

    var last: [Recent] { recent.withLock { $0 } }

    /// Calls `observer` with each event raised from now on, after it went to the outbox: the unit's local
    /// reactions (the call point's fault LED hears of the speaker's faults). It must be quick and must not raise.
    func observe(_ observer: @escaping @Sendable (UnitEvent) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Records an event in the store on a unit without an uplink, numbered here (no sequence number).
    private func recordLocally(_ event: UnitEvent) -> String? {
        guard uplink == nil, let recorder else { return nil }
        let millis = UplinkService.nowMillis()
        let id = localIDs.withLock { $0.next(millis: millis) }
        let uplinkEvent = event.uplinkEvent
        let payload = uplinkEvent.payload(
            id: id, sequence: 0, millis: millis, deviceID: deviceID,
            snapshotTopic: uplinkEvent.snapshot == nil ? nil : Topics(deviceID: deviceID).snapshot(id))
        recorder.record(
            StoredEvent(
                id: id, sequence: nil, millis: millis, kind: uplinkEvent.kind, priority: uplinkEvent.priority,
                zone: uplinkEvent.zone, boxes: uplinkEvent.boxes, payload: payload),
            snapshot: uplinkEvent.snapshot)
        return id
    }

    private func noted(_ event: UnitEvent, id: String?) {
        let id = id ?? recordLocally(event)
        remember(Recent(id: id ?? "", kind: event.kind, priority: event.priority, millis: UplinkService.nowMillis()))
        let level: Logger.Level = event.priority >= Priority.fault ? .notice : .info
        logger.log(
            level: level, "event raised",
            metadata: ["event.id": "\(id ?? "none")", "event.kind": "\(event.kind)", "priority": "\(event.priority)"])
        for observer in observers.withLock({ $0 }) { observer(event) }
    }
}
