import ArgumentParser
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

extension Vigie {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Write the events and snapshots of a period to a folder, for a judicial request, with an audit record.",
            discussion: """
                First asks vigied to record the export (who: the Unix user running this command, as the kernel \
                tells the daemon; when; what: the period and the counts; why: --reason) in the event store and to \
                send it to the centre as an `export` event; if it cannot, nothing is written. Then writes into \
                --output (a new or empty folder, made with mode 0700): events.jsonl (one event a line, as the \
                centre received it, with its operator verdict), snapshots/<event id>.jpg (the masked snapshots), \
                and audit.json (the audit record).
                """)

        @Option(help: "From this time on: RFC 3339, a date, or a span back from now (2h, 3d).")
        var since: String

        @Option(help: "Before this time (default: now).")
        var until: String?

        @Option(help: "Why: the request's reference, in words (1 to 500 characters). Kept and sent to the centre.")
        var reason: String

        @Option(help: "The folder to write (new, or empty).")
        var output: String

        @OptionGroup var state: StateDirectoryOption

        @OptionGroup var control: ControlSocketOption

        func validate() throws {
            guard !reason.allSatisfy(\.isWhitespace), reason.count <= 500,
                !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw ValidationError("--reason: 1 to 500 characters, no control characters (the request's reference)")
            }
            _ = try period(now: wallMillis())
        }

        func period(now: Int64) throws -> (since: Int64, until: Int64) {
            let parsed = try PeriodOption(since: since, until: until).millis(now: now)
            guard let since = parsed.since else { throw ValidationError("--since is required") }
            let until = parsed.until ?? now
            guard since < until else { throw ValidationError("--since must be before --until (or now)") }
            return (since, until)
        }

        func run() throws {
            let (since, until) = try period(now: wallMillis())
            let store = try state.open()
            let events: [StoredEvent]
            do {
                events = try store.events(EventFilter(since: since, until: until, limit: 10_000_000))
            } catch {
                throw CLIError("cannot read the event store in \(state.path): \(error.summary)")
            }
            let snapshots = events.filter { $0.snapshotBytes > 0 }.count
            let folder = output.hasSuffix("/") && output.count > 1 ? String(output.dropLast()) : output
            try Self.makeEmptyFolder(folder)
            let claim = ControlRequest.ExportClaim(
                since: since, until: until, events: events.count, snapshots: snapshots, reason: reason,
                output: Self.absolute(folder))
            let reply: JSONValue
            switch control.ask(.export(claim)) {
            case .success(let answer): reply = answer.reply
            case .failure(let error):
                rmdir(folder)
                throw CLIError("export refused, nothing written: its audit record could not be made (\(error))")
            }
            var lines = ""
            var written = 0
            if snapshots > 0 { try Self.makeEmptyFolder(folder + "/snapshots") }
            var leftOut = 0
            for event in events {
                var line = JSONWriter()
                Events.write(event, into: &line)
                lines += line.text + "\n"
                guard event.snapshotBytes > 0 else { continue }
                let jpeg: [UInt8]?
                do {
                    jpeg = try store.snapshot(of: event.id)
                } catch {
                    throw CLIError("cannot read the snapshot of \(event.id): \(error.summary)")
                }
                guard let jpeg else { continue }
                // The id names a file: from the store, which a damaged or tampered card could fill with anything.
                guard Self.isFileSafe(event.id) else {
                    leftOut += 1
                    continue
                }
                try Self.write(jpeg, to: "\(folder)/snapshots/\(event.id).jpg")
                written += 1
            }
            try Self.write(Array(lines.utf8), to: folder + "/events.jsonl")
            var audit = JSONWriter()
            audit.beginObject()
            audit.string("kind", "export")
            audit.string("user", reply["user"]?.stringValue ?? "")
            audit.string("time", reply["time"]?.stringValue ?? "")
            audit.string("since", Timestamp.rfc3339(millis: since))
            audit.string("until", Timestamp.rfc3339(millis: until))
            audit.integer("events", events.count)
            audit.integer("snapshots", written)
            if leftOut > 0 { audit.integer("snapshots_left_out", leftOut) }
            audit.string("reason", reason)
            if let event = reply["event"]?.stringValue { audit.string("event", event) }
            audit.endObject()
            try Self.write(Array((audit.text + "\n").utf8), to: folder + "/audit.json")
            if control.json {
                print(audit.text)
            } else {
                print(
                    "exported \(events.count) events and \(written) snapshots from \(Timestamp.rfc3339(millis: since)) "
                        + "to \(Timestamp.rfc3339(millis: until)) into \(folder); audit recorded for "
                        + "\(reply["user"]?.stringValue ?? "?")"
                        + (reply["event"]?.stringValue.map { ", event \($0)" } ?? "")
                        + (leftOut > 0 ? "; \(leftOut) snapshots left out: their event ids cannot name a file" : ""))
            }
        }

        static func absolute(_ path: String) -> String {
            guard !path.hasPrefix("/") else { return path }
            var buffer = [CChar](repeating: 0, count: 4096)
            guard getcwd(&buffer, buffer.count) != nil else { return path }
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: bytes, as: UTF8.self) + "/" + path
        }

        /// Makes `path` (mode 0700), or takes it if it exists, is a folder and is empty.
        static func makeEmptyFolder(_ path: String) throws {
            if mkdir(path, 0o700) == 0 { return }
            let code = errno
            guard code == EEXIST, let names = SystemCall.names(inFolder: path) else {
                throw CLIError("\(path): cannot make the folder: \(SystemError.describe(code))")
            }
            guard names.isEmpty else {
                throw CLIError("\(path): not empty (an export goes into a new or empty folder)")
            }
        }

        /// Whether `id` can name a file in the export folder: 1 to 64 ASCII letters, digits, `-`, `_` and `.`, not
        /// starting with a dot.
        static func isFileSafe(_ id: String) -> Bool {
            let bytes = Array(id.utf8)
            guard (1...64).contains(bytes.count), bytes[0] != UInt8(ascii: ".") else { return false }
            return bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
        }

        static func write(_ bytes: [UInt8], to path: String) throws {
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw CLIError("\(path): \(SystemError.describe(errno))") }
            defer { close(fd) }
            let failure = bytes.withUnsafeBytes { raw -> SystemCallError? in
                do throws(SystemCallError) {
                    try SystemCall.writeAll(raw, to: fd)
                    return nil
                } catch {
                    return error
                }
            }
            if let failure { throw CLIError("\(path): \(failure)") }
            guard fsync(fd) == 0 else { throw CLIError("\(path): \(SystemError.describe(errno))") }
        }
    }
}
