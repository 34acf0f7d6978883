import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The folder `--snapshot-dir` names: each alert's masked JPEG, under a name that never collides (the time, the
/// unit, the zone reduced to safe characters, O_EXCL), kept within a size and an age: the oldest files Vigie wrote
/// go first. Files it did not write (another name pattern) are never touched. Not thread-safe: the camera thread
/// alone writes.
public final class SnapshotArchive {
    public struct Limits: Sendable {
        /// Bytes of snapshots kept at most.
        public var bytes: Int64 = 256 << 20
        /// Seconds a snapshot is kept at most.
        public var age: Double = 7 * 86_400

        public init() {}
    }

    struct Entry: Equatable {
        var name: String
        var bytes: Int64
        /// Modification time, seconds since the epoch.
        var time: Double
    }

    let folder: String
    let limits: Limits
    /// What the folder holds of ours, oldest first.
    private(set) var entries: [Entry] = []
    private var total: Int64 = 0

    /// When `pruneIfDue` last pruned.
    private var lastPrune: Double

    /// Reads what the folder already holds of ours (from earlier runs) and lets go of what is over the limits.
    init(folder: String, limits: Limits = Limits(), now: Double = SnapshotArchive.now()) {
        self.folder = folder
        self.limits = limits
        entries = Self.scan(folder)
        total = entries.reduce(0) { $0 + $1.bytes }
        lastPrune = now
        prune(now: now)
    }

    /// Prunes at most once a minute: a quiet unit (no new snapshot) lets old ones go too.
    func pruneIfDue(now: Double = SnapshotArchive.now()) {
        guard abs(now - lastPrune) >= 60 else { return }
        lastPrune = now
        prune(now: now)
    }

    /// Writes `jpeg`; returns its path, or why it could not. Then lets go of what is over the limits.
    func write(_ jpeg: [UInt8], deviceID: String, zone: String, now: Double = SnapshotArchive.now()) -> Result<
        String, SystemCallError
    > {
        let stem =
            "\(Timestamp.compact(millis: Int64((now * 1000).rounded(.down))))-\(Self.safe(deviceID))-\(Self.safe(zone))"
        var attempt = 0
        while true {
            let name = attempt == 0 ? "\(stem).jpg" : "\(stem)-\(attempt).jpg"
            let path = "\(folder)/\(name)"
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
            if descriptor < 0 && errno == EEXIST && attempt < 1000 {
                attempt += 1
                continue
            }
            guard descriptor >= 0 else { return .failure(SystemCallError("open \(path)", code: errno)) }
            defer { close(descriptor) }
            let failure = jpeg.withUnsafeBytes { bytes -> SystemCallError? in
                do throws(SystemCallError) {
                    try SystemCall.writeAll(bytes, to: descriptor)
                    return nil
                } catch {
                    return error
                }
            }
            if let failure {
                unlink(path)  // no truncated picture left behind
                return .failure(failure)
            }
            let written = Entry(name: name, bytes: Int64(jpeg.count), time: now)
            prune(now: now, adding: written)
            entries.append(written)
            total += written.bytes
            return .success(path)
        }
    }

    /// Removes every one of ours older than the age (whatever the order they were written in: the wall clock may
    /// have stepped), then the oldest while the size, with `adding` (just written, always kept), is over the cap.
    func prune(now: Double, adding: Entry? = nil) {
        entries.sort { $0.time < $1.time }
        entries.removeAll { entry in
            guard now - entry.time > limits.age else { return false }
            unlink("\(folder)/\(entry.name)")
            total -= entry.bytes
            return true
        }
        while let oldest = entries.first, total + (adding?.bytes ?? 0) > limits.bytes {
            unlink("\(folder)/\(oldest.name)")
            total -= oldest.bytes
            entries.removeFirst()
        }
    }

    /// A name part from free text: letters, digits, `-` and `_` kept, anything else `_`, at most 32 characters.
    /// Never `.` or `/`: a zone's name cannot lead out of the folder.
    static func safe(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(32).map { scalar -> Character in
            let ascii = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
            return ascii || scalar == "-" || scalar == "_" ? Character(scalar) : "_"
        }
        return kept.isEmpty ? "_" : String(kept)
    }

    static func now() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Whether `name` is one of ours: `YYYYMMDDTHHMMSS.mmmZ-….jpg`.
    static func isOurs(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count > 25, name.hasSuffix(".jpg"), bytes[8] == UInt8(ascii: "T"), bytes[19] == UInt8(ascii: "Z"),
            bytes[20] == UInt8(ascii: "-")
        else { return false }
        return bytes[0..<8].allSatisfy { (0x30...0x39).contains($0) }
    }

    private static func scan(_ folder: String) -> [Entry] {
        (SystemCall.names(inFolder: folder) ?? []).filter(isOurs).compactMap { name in
            var status = stat()
            guard lstat("\(folder)/\(name)", &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
            return Entry(
                name: name, bytes: Int64(status.st_size),
                time: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
        }.sorted { $0.name < $1.name }
    }
}
