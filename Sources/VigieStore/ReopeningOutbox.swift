import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The outbox of a unit whose state folder could not be written at boot (read-only, missing and impossible to
/// make, an outbox file that cannot be opened read-write): it keeps nothing on disk until it can, then opens the
/// real one by itself.
///
/// Each write first tries to open the SQLite outbox (making the folder if needed, setting a damaged file aside as
/// `SQLiteOutbox.openRecovering` does). Until that works the write throws, so the uplink keeps its events in its
/// bounded memory and delivers them from there; its writer spaces the attempts with its backoff and tells the
/// centre with `storage_fault`, then `storage_recovered` once the outbox writes. Reads see nothing on disk before
/// then (`pending` throws, the counts are zero).
///
/// Numbering: the uplink continues from `counters()`, those read at boot without writing (`SQLiteOutbox.inspect`),
/// or zero when nothing could be read. The outbox opened later may hold more: the last commits of a crashed run
/// that only its write-ahead log held (an immutable read does not see them), or a whole outbox that could not be
/// read at boot. Its items keep their ids and the ids given since boot are shifted past them on disk, so none
/// collide and the stored ones are still delivered; the sequence counter on disk never moves back, but the
/// numbers given before the open may repeat earlier ones (docs/mqtt.md says what the centre sees).
public final class ReopeningOutbox: Outbox {
    /// What happened when the outbox finally opened.
    public struct Opening: Sendable, Hashable {
        /// A damaged file was set aside first.
        public var recovery: OutboxRecovery?
        /// How far the ids given since boot are shifted on disk (0 when the numbering read at boot was complete).
        public var offset: Int64
    }

    public let directory: String
    public let maximumItems: Int
    public let maximumBytes: Int
    /// The numbering read at boot, nil if nothing could be read (then it starts from zero).
    public let inspected: (counters: OutboxCounters, boot: Int64)?
    private let start: OutboxCounters
    private struct Opened: Sendable {
        let outbox: SQLiteOutbox
        let offset: Int64
    }
    private let opened = Mutex<Opened?>(nil)
    /// Why the last attempt to open failed.
    private let lastError: Mutex<SQLiteError>
    private let observer = Mutex<(@Sendable (Opening) -> Void)?>(nil)

    /// `reason`: why the outbox could not be opened at boot. Reads the numbering without writing.
    public init(directory: String, maximumItems: Int = 20_000, maximumBytes: Int = 256 << 20, reason: SQLiteError) {
        self.directory = directory
        self.maximumItems = maximumItems
        self.maximumBytes = maximumBytes
        lastError = Mutex(reason)
        do throws(SQLiteError) {
            inspected = try SQLiteOutbox.inspect(directory: directory) ?? (OutboxCounters(sequence: 0, item: 0), 0)
        } catch {
            inspected = nil
        }
        start = inspected?.counters ?? OutboxCounters(sequence: 0, item: 0)
    }

    /// Calls `observer` (on the writer's thread, once) when the outbox opens. Set it before the first write.
    public func onOpen(_ observer: @escaping @Sendable (Opening) -> Void) {
        self.observer.withLock { $0 = observer }
    }

    /// Whether the SQLite outbox is open: from then on this is an ordinary outbox.
    public var isOpen: Bool { opened.withLock { $0 != nil } }

    /// Why the outbox could not be opened the last time it was tried; nil once open.
    public var fault: SQLiteError? { isOpen ? nil : lastError.withLock { $0 } }

    public func counters() throws -> OutboxCounters { start }

    /// The boot read at boot, plus one (0 when it could not be read); counted on disk once the outbox opens.
    public func nextBoot() throws -> Int64 { inspected.map { $0.boot + 1 } ?? 0 }

    @discardableResult
    public func write(_ batch: OutboxBatch) throws -> OutboxWriteResult {
        let current = try open()
        var result = try current.outbox.write(batch.shifted(by: current.offset))
        result.failedRemovals = Set(result.failedRemovals.map { $0 - current.offset })
        return result
    }

    public func takeDropped() -> OutboxDrops { opened.withLock { $0 }?.outbox.takeDropped() ?? OutboxDrops() }

    public func pending(limit: Int, excluding: Set<Int64>) throws -> [StoredItem] {
        guard let current = opened.withLock({ $0 }) else {
            let reason = lastError.withLock { $0 }
            throw SQLiteError(
                code: reason.code, message: "not open yet (\(reason.message))", context: "pending \(directory)")
        }
        return try current.outbox.pending(limit: limit, excluding: Set(excluding.map { $0 + current.offset }))
            .map { StoredItem(id: $0.id - current.offset, item: $0.item) }
    }

    public func count() throws -> Int { try opened.withLock { $0 }?.outbox.count() ?? 0 }

    public func quarantinedCount() throws -> Int { try opened.withLock { $0 }?.outbox.quarantinedCount() ?? 0 }

    /// The SQLite outbox, opened now if it is not yet.
    private func open() throws(SQLiteError) -> Opened {
        if let current = opened.withLock({ $0 }) { return current }
        let opening: Opening
        let current: Opened
        do throws(SQLiteError) {
            try Self.makeDirectory(directory)
            let (outbox, recovery) = try SQLiteOutbox.openRecovering(
                directory: directory, maximumItems: maximumItems, maximumBytes: maximumBytes,
                millis: Self.nowMillis())
            // A damaged file set aside took its items with it: the new one holds nothing to step over.
            let found = try outbox.counters()
            current = Opened(outbox: outbox, offset: max(0, found.item - start.item))
            _ = try? outbox.nextBoot()
            opening = Opening(recovery: recovery, offset: current.offset)
        } catch {
            lastError.withLock { $0 = error }
            throw error
        }
        opened.withLock { $0 = current }
        observer.withLock { $0 }?(opening)
        return current
    }

    /// Makes `path` and the folders above it that are missing.
    private static func makeDirectory(_ path: String) throws(SQLiteError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST {
                throw SQLiteError(code: 14, message: SystemError.describe(errno), context: "make folder \(current)")
            }
        }
    }

    private static func nowMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}

extension OutboxBatch {
    /// The same batch with every item id moved by `offset`.
    fileprivate func shifted(by offset: Int64) -> OutboxBatch {
        guard offset != 0 else { return self }
        var batch = self
        batch.items = items.map { StoredItem(id: $0.id + offset, item: $0.item) }
        batch.quarantines = Dictionary(uniqueKeysWithValues: quarantines.map { ($0.key + offset, $0.value) })
        batch.removals = removals.map { $0 + offset }
        return batch
    }
}
