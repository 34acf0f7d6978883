import Logging
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Log lines for journald when standard error is the journal (`JOURNAL_STREAM`): one line per message, with the
/// syslog priority prefix (`<3>` error … `<7>` debug) that journald reads, so that `journalctl -p err` finds the
/// errors; no timestamp (the journal has its own); metadata kept as `key=value`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) { self.label = label }

    /// Whether standard error is connected to the journal: `JOURNAL_STREAM` names its device and inode.
    public static func standardErrorIsJournal(environment: [String: String]) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        let parts = stream.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// The syslog priority of a level.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// The line written for one message, newline included.
    static func line(
        level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var line = "<\(priority(level))>\(label): \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        // One message, one line: an embedded newline would start a line of its own at the default priority.
        return String(line.map { $0.isNewline ? " " : $0 }) + "\n"
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        try? SystemCall.writeAll(
            Self.line(level: event.level, label: label, message: "\(event.message)", metadata: merged), to: 2)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
}
