import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A damaged event store set aside at open, and a new one made in its place.
public struct EventStoreRecovery: Sendable, Hashable {
    /// What was wrong with the file, in SQLite's words.
    public var reason: String
    /// Where the damaged file went (with its `-wal` and `-shm` beside it), kept for analysis.
    public var setAside: String
}

extension EventStore {
    /// Opens the store in `directory` like `init(directory:)`; a damaged file is renamed
    /// `events.sqlite.corrupt-<UTC time>` (with its `-wal` and `-shm`; the two newest kept) and a new, empty store
    /// made in its place, so that the unit keeps recording. Throws what `init` throws otherwise.
    public static func openRecovering(directory: String, millis: Int64) throws(SQLiteError) -> (
        store: EventStore, recovery: EventStoreRecovery?
    ) {
        do throws(SQLiteError) {
            return (try EventStore(directory: directory), nil)
        } catch  where error.isCorruption {
            let aside = try SQLiteOutbox.setAside(
                directory: directory, fileName: fileName, suffix: "corrupt-" + Timestamp.compact(millis: millis))
            return (try EventStore(directory: directory), EventStoreRecovery(reason: error.summary, setAside: aside))
        }
    }
}

extension EventStore {
    /// Deletes the set-aside copies of the event store in `directory` last written more than `retentionMillis`
    /// before `nowMillis`: everything in such a copy is older than the retention, and the law keeps no picture
    /// longer. Returns the names deleted.
    @discardableResult
    public static func purgeSetAside(directory: String, retentionMillis: Int64, nowMillis: Int64) -> [String] {
        let prefix = fileName + ".corrupt-"
        var deleted: [String] = []
        for name in SystemCall.names(inFolder: directory) ?? []
        where name.hasPrefix(prefix) && !name.hasSuffix("-wal") && !name.hasSuffix("-shm") {
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { continue }
            // The newest of the file and its write-ahead log: what was written last.
            var written = Int64(info.st_mtim.tv_sec) * 1000
            if stat(directory + "/" + name + "-wal", &info) == 0 {
                written = max(written, Int64(info.st_mtim.tv_sec) * 1000)
            }
            guard written < nowMillis - retentionMillis else { continue }
            for extra in ["", "-wal", "-shm"] { unlink(directory + "/" + name + extra) }
            deleted.append(name)
        }
        return deleted
    }
}
