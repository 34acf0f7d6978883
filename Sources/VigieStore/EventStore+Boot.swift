import VigieCore

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
