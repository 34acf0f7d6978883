#if canImport(Glibc)
    import Glibc
#endif

/// One line of `vigie doctor`: what was checked, the verdict, what was found, and how to fix it.
public struct DoctorCheck: Sendable, Equatable {
    public var name: String
    public var ok: Bool
    public var detail: String
    public var hint: String

    public init(name: String, ok: Bool, detail: String, hint: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
        self.hint = hint
    }

    /// Reads one from a reply's `checks` array.
    public init?(_ value: JSONValue) {
        guard let name = value["name"]?.stringValue, let ok = value["ok"]?.boolValue else { return nil }
        self.init(
            name: name, ok: ok, detail: value["detail"]?.stringValue ?? "", hint: value["hint"]?.stringValue ?? "")
    }

    public func write(to json: inout JSONWriter) {
        json.beginObject()
        json.string("name", name)
        json.bool("ok", ok)
        json.string("detail", detail)
        if !ok { json.string("hint", hint) }
        json.endObject()
    }

    /// Below this, the outbox may soon fail for lack of room.
    public static let minimumFreeBytes: Int64 = 64 << 20

    /// Free space where the outbox lives: the daemon's verdict, and `vigie doctor`'s when the daemon is down.
    public static func disk(_ folder: String) -> DoctorCheck {
        guard let free = freeBytes(folder) else {
            return DoctorCheck(
                name: "disk", ok: false, detail: "\(folder): \(SystemError.describe(errno))",
                hint: "the state folder must exist and be readable (the package makes /var/lib/vigie)")
        }
        return DoctorCheck(
            name: "disk", ok: free >= minimumFreeBytes, detail: "\(free >> 20) MiB free in \(folder)",
            hint: "free space on the state folder's disk (old snapshots; journalctl --vacuum-size=50M)")
    }

    /// Bytes free for an unprivileged writer where `path` lives.
    public static func freeBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
