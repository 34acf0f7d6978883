import CLinux
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the daemon does to itself at start, since its memory holds frames before masking and its folder the
/// events and credentials of the unit.
public enum ProcessHardening {
    /// No core dump (in the process too, whatever the unit file says) and no debugger attaching as the same user;
    /// files it creates (outbox, WAL, identity, snapshots) readable by its user only. Returns what failed.
    public static func apply() -> [String] {
        var problems: [String] = []
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        if setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none) != 0 {
            problems.append("setrlimit(RLIMIT_CORE): \(SystemError.describe(errno))")
        }
        if clinux_forbid_core_dumps() != 0 {
            problems.append("prctl(PR_SET_DUMPABLE): \(SystemError.describe(errno))")
        }
        umask(0o077)
        return problems
    }

    /// Files holding a secret of this configuration that others than their owner can read (the group `vigie`
    /// holds the technicians): the configuration itself when it holds the broker's password, and the client key.
    public static func exposedSecrets(configurationPath: String?, configuration: Configuration) -> [String] {
        var exposed: [String] = []
        if let configurationPath, configuration.uplink?.password != nil, isShared(configurationPath) {
            exposed.append("\(configurationPath) holds the broker's password")
        }
        if let key = configuration.uplink?.keyFile, isShared(key) {
            exposed.append("\(key) is the client's private key")
        }
        return exposed
    }

    private static func isShared(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & 0o044 != 0
    }
}
