import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// A process the fleet benchmark started (the broker, a shard of units), known by its id only: it is signalled
/// and reaped by that id, never looked up by name.
struct ChildProcess: Sendable {
    let pid: pid_t

    /// Starts `executable` with `arguments`, default signal handling and an empty signal mask (whatever this
    /// process blocks, SIGTERM must reach it). `redirect` sets up its standard descriptors.
    init(
        _ executable: String, _ arguments: [String], redirect: (inout posix_spawn_file_actions_t) -> Void
    ) throws(FleetError) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        redirect(&actions)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { (text: String) in strdup(text) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw .process("cannot start \(executable): \(String(cString: strerror(status)))") }
        pid = child
    }

    /// The wait status once the process has exited (and been reaped), else nil.
    func exited() -> Int32? {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == pid ? status : nil
    }

    /// Sends `signal` and waits up to `timeout` for the exit, then SIGKILL.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async {
        kill(pid, signal)
        if await !Poll.until(timeout: timeout, every: .milliseconds(10), { exited() != nil }) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// This program's own executable, to start shards of it.
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
