/// What a camera reports about itself: the kind of event it raises.
public enum CameraCondition: String, Sendable, CaseIterable {
    /// No frame within the stall timeout (the device is still there).
    case stalled = "camera_stalled"
    /// Gone (unplugged, driver unbound, I/O errors) or stalled for good; reopened with backoff.
    case lost = "camera_lost"
    /// Frames again after a stall or a loss.
    case restored = "camera_restored"
    /// Another aspect ratio than the masks were drawn for: refused, nothing streamed.
    case mismatch = "camera_mismatch"
    /// Another size with the same aspect ratio: masks redrawn for it, streamed.
    case rescaled = "camera_rescaled"
    /// Another camera on the same device node than the one remembered.
    case replaced = "camera_replaced"

    /// Whether the camera is out of service in this condition (what the status and the self-test report).
    public var isFault: Bool {
        switch self {
        case .stalled, .lost, .mismatch: true
        case .restored, .rescaled, .replaced: false
        }
    }
}

/// Every event the unit's own parts raise, typed: each one's kind, priority and details are decided here and
/// nowhere else, and `uplinkEvent` is the one way it becomes what the outbox stores. (The uplink's reports of its
/// own state — `storage_fault`, `storage_recovered`, `outbox_overflow`, `outbox_quarantine` — are made by
/// `StorageHealth`, `OutboxOverflowReport` and `QuarantineReport`.) The kinds are listed in docs/mqtt.md.
public enum UnitEvent: Sendable {
    /// Motion began in a zone; the masked snapshot of the frame that started it, when it could be encoded.
    case motionStarted(zone: String, boxes: [NormalizedRect], snapshot: [UInt8]?)
    /// Motion in a zone ended.
    case motionEnded(MotionEvent)
    /// The camera's condition changed.
    case camera(CameraCondition, reason: String)
    /// The camera's identity could not be saved (a replacement would go unnoticed).
    case cameraIdentityNotSaved(reason: String)
    /// The local event store (`events.sqlite`) cannot write (`opening` false) or cannot be opened (`opening`):
    /// events wait in memory (`heldInMemory` of them now) and it is tried again; the first failure of an episode
    /// (`EventRecorder`). Until it is over, what `cmd/replay` and an export draw on has a gap.
    case eventStoreFault(opening: Bool, reason: String, heldInMemory: Int)
    /// The episode is over: the store opened and wrote for 10 s without failing again, what waited committed.
    case eventStoreRecovered(opening: Bool, seconds: Double, failedWrites: Int, written: Int)
    /// The event store was found damaged at start, set aside as `setAside` and replaced (`reason`: what was
    /// wrong): what it held is no longer on the unit's record.
    case eventStoreReplaced(reason: String, setAside: String)
    /// A reload applied a new configuration; `restartNeeded` names what it changed that only a restart applies.
    case configChanged(masks: Int, zones: Int, restartNeeded: [String])
    /// A reload found errors: the running configuration is kept.
    case configRefused(reason: String)
    /// `vigied --test-events`: store-and-forward checks (every tenth an emergency).
    case test(index: Int)
    /// The speaker finished a message (played out, cut short, or pre-empted): what it said or played, and why.
    case announcement(Announcement, why: String)
    /// The speaker's output failed (no sound card, a card that fails); `output` names it.
    case speakerFault(reason: String, output: String)
    /// The speaker's output works again.
    case speakerRestored(output: String)
    /// The call point's button, cabinet or call; `callID` is the id of the call's `call_button` event (for the
    /// events after it), `snapshot` whether a masked snapshot follows a `call_button`.
    case callPoint(CallPointEvent, callID: String?, snapshot: Bool)
    /// The call point's GPIO lines cannot be opened or fail (retried); the call point is out of service.
    case gpioFault(reason: String)
    /// The call point's GPIO lines work again.
    case gpioRestored
    /// A self-test's verdict, part by part (`trigger`: `schedule` or `command`).
    case selfTest(SelfTestReport, trigger: String)
    /// The camera's view was tampered with (covered, defocused, moved) or is right again; the masked snapshot of
    /// the frame that decided it, when it could be encoded.
    case tamper(TamperChange, snapshot: [UInt8]?)
    /// A rule found a situation for a human to look at (intrusion, density, crowd movement, a line crossed, an
    /// object left); the masked snapshot of the frame that decided it, when it could be encoded.
    case rule(RuleAlert, snapshot: [UInt8]?)
    /// Someone exported recorded footage, or a reload changed the privacy masks: who, when, what and why.
    case audit(AuditRecord)

    public var kind: String {
        switch self {
        case .motionStarted: "motion"
        case .motionEnded: "motion_end"
        case .camera(let condition, _): condition.rawValue
        case .cameraIdentityNotSaved, .eventStoreFault: StorageHealth.faultKind
        case .eventStoreRecovered, .eventStoreReplaced: StorageHealth.recoveredKind
        case .configChanged: "config_changed"
        case .configRefused: "config_refused"
        case .test: "test"
        case .announcement: "announcement"
        case .speakerFault: "speaker_fault"
        case .speakerRestored: "speaker_restored"
        case .callPoint(let event, _, _):
            switch event {
            case .callButton: "call_button"
            case .callAnswered: "call_answered"
            case .callEnded: "call_ended"
            case .buttonStuck: "button_stuck"
            case .buttonReleased: "button_released"
            case .cabinetOpened: "cabinet_opened"
            case .cabinetClosed: "cabinet_closed"
            }
        case .selfTest: "selftest"
        case .gpioFault: "gpio_fault"
        case .gpioRestored: "gpio_restored"
        case .tamper(let change, _): change.kind
        case .rule(let alert, _): alert.kind.rawValue
        case .audit(let record): record.kind
        }
    }

    public var priority: Int {
        switch self {
        case .motionStarted: Priority.alert
        case .motionEnded, .announcement: Priority.routine
        case .camera, .cameraIdentityNotSaved, .configChanged, .configRefused, .speakerFault, .speakerRestored,
            .eventStoreFault, .eventStoreRecovered, .eventStoreReplaced:
            Priority.fault
        case .test(let index): index % 10 == 0 ? Priority.emergency : Priority.alert
        case .callPoint(let event, _, _):
            switch event {
            case .callButton: Priority.emergency
            case .callAnswered, .callEnded, .cabinetOpened: Priority.alert
            case .buttonStuck, .buttonReleased, .cabinetClosed: Priority.fault
            }
        case .selfTest(let report, _): report.ok ? Priority.routine : Priority.fault
        case .gpioFault, .gpioRestored: Priority.fault
        // The clearing is an alert too: it tells the operator who is looking at the first that it is over.
        case .tamper: Priority.alert
        case .rule: Priority.alert
        // The centre must see who took footage or changed what the camera hides, as soon as it can.
        case .audit: Priority.alert
        }
    }

    /// `operation` of the event store's `storage_fault` and `storage_recovered`.
    static func eventStoreOperation(opening: Bool) -> String { opening ? "event_store_open" : "event_store" }

    /// The event as the outbox stores and the centre receives it.
    public var uplinkEvent: UplinkEvent {
        switch self {
        case .motionStarted(let zone, let boxes, let snapshot):
            UplinkEvent(kind: kind, priority: priority, zone: zone, boxes: boxes, snapshot: snapshot)
        case .motionEnded(let event):
            UplinkEvent(
                kind: kind, priority: priority, zone: event.zone, boxes: event.boxes,
                details: [
                    ("duration_s", Self.rounded(event.endTime - event.startTime)),
                    ("peak_area", Self.rounded(event.peakArea * 100) + "%"),
                ])
        case .camera(_, let reason), .configRefused(let reason), .gpioFault(let reason):
            UplinkEvent(kind: kind, priority: priority, details: [("reason", reason)])
        case .cameraIdentityNotSaved(let reason):
            UplinkEvent(
                kind: kind, priority: priority, details: [("operation", "camera_identity"), ("reason", reason)])
        case .eventStoreFault(let opening, let reason, let held):
            UplinkEvent(
                kind: kind, priority: priority,
                details: [
                    ("operation", Self.eventStoreOperation(opening: opening)), ("reason", String(reason.prefix(200))),
                    ("held_in_memory", "\(held)"),
                ])
        case .eventStoreRecovered(let opening, let seconds, let failedWrites, let written):
            UplinkEvent(
                kind: kind, priority: priority,
                details: [
                    ("operation", Self.eventStoreOperation(opening: opening)), ("duration_s", Self.rounded(seconds)),
                    ("failed_writes", "\(failedWrites)"), ("written", "\(written)"),
                ])
        case .eventStoreReplaced(let reason, let setAside):
            UplinkEvent(
                kind: kind, priority: priority,
                details: [
                    ("cause", "corrupt_event_store"), ("reason", String(reason.prefix(200))), ("set_aside", setAside),
                ])
        case .configChanged(let masks, let zones, let restartNeeded):
            UplinkEvent(
                kind: kind, priority: priority,
                details: [("masks", "\(masks)"), ("zones", "\(zones)")]
                    + (restartNeeded.isEmpty ? [] : [("restart_needed", restartNeeded.joined(separator: ","))]))
        case .test(let index):
            UplinkEvent(kind: kind, priority: priority, details: [("n", "\(index)")])
        case .announcement(let announcement, let why):
            UplinkEvent(kind: kind, priority: priority, details: Self.details(announcement, why: why))
        case .speakerFault(let reason, let output):
            UplinkEvent(kind: kind, priority: priority, details: [("reason", reason), ("output", output)])
        case .speakerRestored(let output):
            UplinkEvent(kind: kind, priority: priority, details: [("output", output)])
        case .gpioRestored:
            UplinkEvent(kind: kind, priority: priority)
        case .callPoint(let event, let callID, let snapshot):
            UplinkEvent(
                kind: kind, priority: priority, details: Self.details(event, callID: callID, snapshot: snapshot))
        case .selfTest(let report, let trigger):
            UplinkEvent(
                kind: kind, priority: priority,
                details: [("verdict", report.ok ? "ok" : "fault"), ("trigger", trigger)]
                    + report.parts.map { ($0.name, $0.fault.map { "fault: \($0)" } ?? "ok") })
        case .tamper(let change, let snapshot):
            UplinkEvent(kind: kind, priority: priority, details: Self.details(change), snapshot: snapshot)
        case .rule(let alert, let snapshot):
            UplinkEvent(
                kind: kind, priority: priority, zone: alert.zone, boxes: alert.boxes, details: Self.details(alert),
                snapshot: snapshot)
        case .audit(let record):
            UplinkEvent(kind: kind, priority: priority, details: record.details)
        }
    }

    private static func details(_ alert: RuleAlert) -> [(key: String, value: String)] {
        var details: [(key: String, value: String)] = [("rule", alert.rule)]
        if let line = alert.line { details.append(("line", line)) }
        if let direction = alert.direction { details.append(("direction", direction.rawValue)) }
        return details + [
            ("confidence", rounded(alert.confidence)),
            ("start_s", rounded(alert.startTime)),
            ("duration_s", rounded(alert.time - alert.startTime)),
        ]
    }

    private static func details(_ change: TamperChange) -> [(key: String, value: String)] {
        let measured = change.measurement
        var details: [(key: String, value: String)] = [("confidence", rounded(change.confidence))]
        if change.state == nil {
            details += [
                ("was", change.previous?.rawValue ?? ""), ("duration_s", rounded(change.duration)),
                ("reason", (change.reason ?? .view).rawValue),
            ]
        } else if let previous = change.previous {
            details.append(("previous", previous.rawValue))
        }
        return details + [
            ("contrast", rounded(measured.contrast)), ("sharpness", rounded(measured.sharpness)),
            ("correlation", rounded(measured.correlation)), ("luma", rounded(measured.luma)),
        ]
    }

    private static func details(_ event: CallPointEvent, callID: String?, snapshot: Bool)
        -> [(key: String, value: String)]
    {
        let call: [(key: String, value: String)] = callID.map { [("call", $0)] } ?? []
        switch event {
        case .callButton(_, let press):
            return [("press", press.rawValue), ("snapshot", snapshot ? "follows" : "unavailable")]
        case .callAnswered(_, let waited):
            return call + [("waited_s", rounded(waited))]
        case .callEnded(_, let reason, let duration, let answered, let presses):
            return call + [
                ("reason", reason.rawValue), ("duration_s", rounded(duration)), ("answered", "\(answered)"),
                ("presses", "\(presses)"),
            ]
        case .buttonStuck(let held), .buttonReleased(let held):
            return [("held_s", rounded(held))]
        case .cabinetOpened, .cabinetClosed:
            return []
        }
    }

    private static func details(_ announcement: Announcement, why: String) -> [(key: String, value: String)] {
        var details: [(key: String, value: String)] = [("message", announcement.message.id)]
        switch announcement.message.content {
        case .text(let text, let voice):
            details.append(("text", text))
            details.append(("voice", voice))
        case .clip(let clip):
            details.append(("clip", clip))
        }
        return details + [
            ("why", why),
            ("priority", announcement.message.priority.name),
            ("start", Timestamp.rfc3339(millis: Int64(announcement.startTime * 1000))),
            ("duration_s", rounded(announcement.duration)),
            ("times_played", "\(announcement.timesPlayed)"),
            ("interrupted", "\(announcement.interrupted)"),
            ("truncated", "\(announcement.truncated)"),
        ]
    }

    /// Two decimals at most, as the centre reads them.
    public static func rounded(_ value: Double) -> String { String((value * 100).rounded() / 100) }
}
