import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A damaged outbox file set aside at open, and a new one made in its place.
public struct OutboxRecovery: Sendable, Hashable {
    /// What was wrong with the file, in SQLite's words.
    public var reason: String
    /// Where the damaged file went, kept for analysis; its `-wal` and `-shm`, if it had any, beside it with the
    /// same name and their usual suffix (so that SQLite opens the three together).
    public var setAside: String

    /// The `storage_recovered` event that tells the centre.
    public var event: UplinkEvent { StorageHealth.corruptionRecovered(reason: reason, setAside: setAside) }
}

extension SQLiteOutbox {
    /// Opens the outbox in `directory` like `init`; a damaged file (`SQLiteError.isCorruption`: not a database,
    /// or a failed `quick_check`) is renamed `outbox.sqlite.corrupt-<UTC time>` with its `-wal` and `-shm`, and
    /// a new, empty outbox made in its place: its undelivered items are not delivered (and numbering starts
    /// again), but the unit keeps running and reporting. `millis` names the set-aside file. Throws what `init`
    /// throws otherwise, or when the damaged file cannot be moved.
    public static func openRecovering(
        directory: String, maximumItems: Int = 20_000, maximumBytes: Int = 256 << 20, millis: Int64
    ) throws(SQLiteError) -> (outbox: SQLiteOutbox, recovery: OutboxRecovery?) {
        do throws(SQLiteError) {
            return (try SQLiteOutbox(directory: directory, maximumItems: maximumItems, maximumBytes: maximumBytes), nil)
        } catch  where error.isCorruption {
            let aside = try setAside(directory: directory, suffix: "corrupt-" + Timestamp.compact(millis: millis))
            let outbox = try SQLiteOutbox(directory: directory, maximumItems: maximumItems, maximumBytes: maximumBytes)
            return (outbox, OutboxRecovery(reason: error.summary, setAside: aside))
        }
    }

    /// Where the numbering of the outbox in `directory` stands, and its boot counter, read without writing
    /// anything (for a folder that cannot be written): read-only, then, if even that needs a write (SQLite's
    /// shared-memory file on a read-only filesystem), as an immutable file, which does not see what only its
    /// write-ahead log holds (after a crash: the last commits). Nil when there is no outbox file.
    public static func inspect(directory: String) throws(SQLiteError) -> (counters: OutboxCounters, boot: Int64)? {
        let path = path(directory: directory)
        guard access(path, F_OK) == 0 else {
            guard errno == ENOENT else {
                throw SQLiteError(code: 14, message: SystemError.describe(errno), context: "inspect \(path)")
            }
            return nil
        }
        do throws(SQLiteError) {
            return try numbers(SQLiteDatabase(path: path, mode: .inspect(immutable: false)))
        } catch {
            return try numbers(SQLiteDatabase(path: path, mode: .inspect(immutable: true)))
        }
    }

    private static func numbers(_ database: SQLiteDatabase) throws(SQLiteError) -> (OutboxCounters, Int64) {
        var boot: Int64 = 0
        try database.query("SELECT value FROM counters WHERE name = 'boot'") { boot = $0.integer(0) }
        return (try counters(database), boot)
    }

    /// Set-aside outboxes kept at most (the newest): a failing card that damages one at every boot must not fill
    /// the state folder with them.
    static let setAsideKept = 2

    /// Renames the outbox file (or another store's, `fileName`) of `directory`, and its `-wal` and `-shm` if there are any, with `suffix` (another
    /// number added if that name is taken), then lets go of the oldest set-aside outboxes beyond `setAsideKept`.
    /// Returns the new name of the main file.
    static func setAside(directory: String, fileName: String = fileName, suffix: String) throws(SQLiteError) -> String {
        let path = directory + "/" + fileName
        let name = String(path.split(separator: "/").last ?? "") + ".corrupt-"
        // A unit without a clock may boot at the same time again: number those, never reusing a number.
        let same = setAsideFiles(directory: directory, prefix: name).filter { $0.hasPrefix(name + suffix.dropFirst(8)) }
        var aside = path + "." + suffix
        if let last = same.last { aside += "-\(setAsideOrder(last).number + 1)" }
        // The main file last: if a rename fails, the next open still finds the damaged file, and tries again.
        for extra in ["-wal", "-shm"] where rename(path + extra, aside + extra) != 0 && errno != ENOENT {
            throw SQLiteError(code: 14, message: SystemError.describe(errno), context: "set aside \(path + extra)")
        }
        guard rename(path, aside) == 0 else {
            throw SQLiteError(code: 14, message: SystemError.describe(errno), context: "set aside \(path)")
        }
        let older = setAsideFiles(directory: directory, prefix: name).dropLast(setAsideKept)
        for old in older {
            for extra in ["", "-wal", "-shm"] { unlink("\(directory)/\(old)\(extra)") }
        }
        return aside
    }

    /// The set-aside outboxes' main files in `directory`, oldest first.
    private static func setAsideFiles(directory: String, prefix: String) -> [String] {
        (SystemCall.names(inFolder: directory) ?? [])
            .filter { $0.hasPrefix(prefix) && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }
            .sorted { setAsideOrder($0) < setAsideOrder($1) }
    }

    /// A set-aside name's place in time: its timestamp, then its number (`…Z-2` after `…Z-1` after `…Z`).
    private static func setAsideOrder(_ name: String) -> (stem: String, number: Int) {
        guard let dash = name.lastIndex(of: "-"), name[name.index(before: dash)] == "Z",
            let number = Int(name[name.index(after: dash)...])
        else { return (name, 0) }
        return (String(name[..<dash]), number)
    }
}
