import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads the unit's own health from the kernel: load, temperature, free disk.
enum SystemProbe {
    /// One-minute load average from /proc/loadavg.
    static func load() -> Double? {
        guard let text = try? TextFile.read(path: "/proc/loadavg", limit: 4096),
            let first = text.split(separator: " ").first
        else { return nil }
        return Double(first)
    }

    /// Degrees Celsius from the first thermal zone, if the board has one.
    static func temperature() -> Double? {
        guard let text = try? TextFile.read(path: "/sys/class/thermal/thermal_zone0/temp", limit: 64),
            let milli = Double(text.trimmingCharacters(in: " \n"))
        else { return nil }
        return milli / 1000
    }

    /// Bytes free for an unprivileged writer where `path` lives.
    static func diskFree(_ path: String) -> Int64? { DoctorCheck.freeBytes(path) }
}

extension String {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
