import VigieCore

/// An event as the event store keeps it: what the unit raised, numbered as the uplink numbered it.
public struct StoredEvent: Sendable, Hashable {
    /// The event id (the uplink's, or the sink's own without an uplink): unique, sortable.
    public var id: String
    /// The uplink's sequence number; `nil` on a unit without an uplink.
    public var sequence: Int64?
    /// When it was raised, milliseconds since the epoch.
    public var millis: Int64
    public var kind: String
    public var priority: Int
    public var zone: String?
    /// The union of its boxes, for `--where`; `nil` when it has none.
    public var area: NormalizedRect?
    /// The event's JSON as the centre receives it (docs/mqtt.md), without a `historical` mark.
    public var payload: [UInt8]
    /// Bytes of its masked snapshot (the JPEG itself is read apart: `snapshot(of:)`), 0 without one.
    public var snapshotBytes: Int
    /// The last operator verdict on it, if any.
    public var verdict: Verdict?

    /// A verdict as recorded.
    public struct Verdict: Sendable, Hashable {
        public var confirmed: Bool
        public var operatorName: String
        public var note: String?
        /// When the unit received it.
        public var millis: Int64

        public init(confirmed: Bool, operatorName: String, note: String?, millis: Int64) {
            self.confirmed = confirmed
            self.operatorName = operatorName
            self.note = note
            self.millis = millis
        }
    }

    public init(
        id: String, sequence: Int64?, millis: Int64, kind: String, priority: Int, zone: String?,
        boxes: [NormalizedRect], payload: [UInt8], snapshotBytes: Int = 0
    ) {
        self.id = id
        self.sequence = sequence
        self.millis = millis
        self.kind = kind
        self.priority = priority
        self.zone = zone
        self.area = Self.union(boxes)
        self.payload = payload
        self.snapshotBytes = snapshotBytes
    }

    static func union(_ boxes: [NormalizedRect]) -> NormalizedRect? {
        guard let first = boxes.first else { return nil }
        var (left, top, right, bottom) = (first.x, first.y, first.x + first.width, first.y + first.height)
        for box in boxes.dropFirst() {
            left = min(left, box.x)
            top = min(top, box.y)
            right = max(right, box.x + box.width)
            bottom = max(bottom, box.y + box.height)
        }
        return NormalizedRect(x: left, y: top, width: right - left, height: bottom - top)
    }
}

/// What `vigie events` asks of the store. Times are milliseconds since the epoch, `until` exclusive.
public struct EventFilter: Sendable, Hashable {
    public var kinds: [String] = []
    public var since: Int64?
    public var until: Int64?
    /// Only events whose boxes overlap this area (events without boxes are left out).
    public var area: NormalizedRect?
    public var limit = 1000

    public init(
        kinds: [String] = [], since: Int64? = nil, until: Int64? = nil, area: NormalizedRect? = nil, limit: Int = 1000
    ) {
        self.limit = limit
        self.kinds = kinds
        self.since = since
        self.until = until
        self.area = area
    }
}

/// Consecutive minutes with motion in an area: `start` is the first minute's start, `end` the last one's end
/// (milliseconds since the epoch).
public struct ActivitySpan: Sendable, Hashable {
    public var start: Int64
    public var end: Int64
    /// Minutes with motion in the area within the span.
    public var minutes: Int
    /// The most frames with motion in one cell of the area, in one minute of the span.
    public var peak: Int

    public init(start: Int64, end: Int64, minutes: Int, peak: Int) {
        self.start = start
        self.end = end
        self.minutes = minutes
        self.peak = peak
    }
}

/// What a purge removed.
public struct PurgeResult: Sendable, Hashable {
    public var events = 0
    public var minutes = 0
    /// Removed because the store was over its size cap (the rest: older than the retention).
    public var forSize = 0

    public init() {}
}
