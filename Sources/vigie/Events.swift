import ArgumentParser
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

/// Where the unit keeps its state (the event store), for `events` and `export`.
struct StateDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "The unit's state folder, where events.sqlite is.",
            discussion: "Default: $VIGIE_STATE_DIR, else /var/lib/vigie ([storage] state_dir of the packaged unit)."))
    var stateDirectory: String?

    var path: String {
        stateDirectory ?? getenv("VIGIE_STATE_DIR").map { String(cString: $0) } ?? "/var/lib/vigie"
    }

    /// The store, opened read-only: the daemon may be running (WAL: reading never blocks it) or not.
    func open() throws -> EventStore {
        do {
            return try EventStore(readingFrom: path)
        } catch {
            throw CLIError("cannot read the event store in \(path): \(error.summary)")
        }
    }
}

/// `--since` and `--until`, parsed against one `now`.
struct PeriodOption: ParsableArguments {
    init() {}

    init(since: String?, until: String?) {
        self.since = since
        self.until = until
    }

    @Option(help: "From this time on: RFC 3339 (2026-11-30T14:00:00Z), a date, or a span back from now (2h, 3d).")
    var since: String?

    @Option(help: "Before this time (same forms as --since).")
    var until: String?

    func millis(now: Int64) throws -> (since: Int64?, until: Int64?) {
        func parse(_ text: String?, _ name: String) throws -> Int64? {
            guard let text else { return nil }
            switch QueryArguments.time(text, now: now) {
            case .success(let millis): return millis
            case .failure(let error): throw ValidationError("--\(name): \(error)")
            }
        }
        let since = try parse(since, "since")
        let until = try parse(until, "until")
        if let since, let until, since >= until {
            throw ValidationError("--since must be before --until")
        }
        return (since, until)
    }
}

func wallMillis() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}

extension Vigie {
    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the events the unit recorded, and when something moved in an area.",
            discussion: """
                Reads the unit's event store (events.sqlite in the state folder) read-only, whether vigied runs or \
                not. Events are listed oldest first with their operator verdict (confirmed or dismissed by the \
                centre), if any. With --where x,y,w,h (fractions of the image), only events whose boxes overlap \
                that area are listed, and the minutes in which anything moved there (from the per-minute motion \
                grid, 16×16 cells) are listed as periods. Times are printed in UTC (RFC 3339).
                """)

        @Option(help: "Only events of this kind (motion, tamper_covered, call_button, …); repeat for several.")
        var kind: [String] = []

        @OptionGroup var period: PeriodOption

        @Option(name: .customLong("where"), help: "An area x,y,w,h in fractions of the image, e.g. 0.6,0.5,0.2,0.3.")
        var area: String?

        @Option(help: "List at most this many events.")
        var limit = 1000

        @Flag(help: "Print JSON instead of text.")
        var json = false

        @OptionGroup var state: StateDirectoryOption

        func validate() throws {
            if let area, case .failure(let error) = QueryArguments.area(area) {
                throw ValidationError("--where: \(error)")
            }
            guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit: 1 to 1000000") }
            for name in kind
            where name.isEmpty || name.utf8.count > 64
                || !name.utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F })
            {
                throw ValidationError("--kind: '\(name.prefix(64))' is not an event kind (letters, digits, _)")
            }
            _ = try period.millis(now: wallMillis())
        }

        func run() throws {
            let (since, until) = try period.millis(now: wallMillis())
            let region = try area.map { try QueryArguments.area($0).get() }
            let store = try state.open()
            let events: [StoredEvent]
            var spans: [ActivitySpan] = []
            do {
                events = try store.events(
                    EventFilter(kinds: kind, since: since, until: until, area: region, limit: limit))
                if let region { spans = try store.activity(in: region, since: since, until: until) }
            } catch {
                throw CLIError("cannot read the event store in \(state.path): \(error.summary)")
            }
            if json {
                print(Self.json(events, spans: region == nil ? nil : spans))
                return
            }
            for event in events { print(Self.line(event)) }
            if events.isEmpty { print("no events") }
            if region != nil {
                print("")
                print("motion in \(area ?? ""): \(spans.isEmpty ? "none" : "\(spans.count) periods")")
                for span in spans {
                    print(
                        "  \(Timestamp.rfc3339(millis: span.start)) – \(Timestamp.rfc3339(millis: span.end))  "
                            + "\(span.minutes) min, up to \(span.peak) frames with motion in a cell per minute")
                }
            }
        }

        static func line(_ event: StoredEvent) -> String {
            var parts = [Timestamp.rfc3339(millis: event.millis), event.kind]
            if let sequence = event.sequence { parts.append("seq \(sequence)") }
            if let zone = event.zone { parts.append("zone \(zone)") }
            parts.append("id \(event.id)")
            if event.snapshotBytes > 0 { parts.append("snapshot \((event.snapshotBytes + 1023) / 1024) KiB") }
            if let verdict = event.verdict {
                parts.append(
                    "\(verdict.confirmed ? "CONFIRMED" : "DISMISSED") by \(verdict.operatorName)"
                        + (verdict.note.map { " (\($0))" } ?? ""))
            }
            return parts.joined(separator: "  ")
        }

        /// One event as `vigie events --json` and `vigie export` write it: the event as the centre received it
        /// (docs/mqtt.md), its snapshot's size and its operator verdict.
        static func write(_ event: StoredEvent, into json: inout JSONWriter) {
            json.beginObject()
            json.raw("event", String(decoding: event.payload, as: UTF8.self))
            json.integer("snapshot_bytes", event.snapshotBytes)
            if let verdict = event.verdict {
                json.beginObject("verdict")
                json.string("verdict", verdict.confirmed ? "confirmed" : "dismissed")
                json.string("operator", verdict.operatorName)
                if let note = verdict.note { json.string("note", note) }
                json.string("time", Timestamp.rfc3339(millis: verdict.millis))
                json.endObject()
            }
            json.endObject()
        }

        static func json(_ events: [StoredEvent], spans: [ActivitySpan]?) -> String {
            var json = JSONWriter()
            json.beginObject()
            json.beginArray("events")
            for event in events { write(event, into: &json) }
            json.endArray()
            if let spans {
                json.beginArray("activity")
                for span in spans {
                    json.beginObject()
                    json.string("start", Timestamp.rfc3339(millis: span.start))
                    json.string("end", Timestamp.rfc3339(millis: span.end))
                    json.integer("minutes", span.minutes)
                    json.integer("peak", span.peak)
                    json.endObject()
                }
                json.endArray()
            }
            json.endObject()
            return json.text
        }
    }
}
