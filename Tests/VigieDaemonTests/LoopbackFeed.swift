import Testing
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The rig's recorded street clip played into a v4l2loopback device by `tools/vmtest.d/feed-loopback`, as a
/// YUYV or an MJPEG camera, until `stop()`.
final class LoopbackFeed {
    let pid: pid_t
    let output: String
    private var stopped = false

    /// Starts the feed and waits until its first frame is in the device (the capture side exists only then).
    init(device: String, format: String, size: String = "640x480", fps: Int = 15) throws {
        let script = getenv("VIGIE_RIG_FEED").map { String(cString: $0) } ?? "tools/vmtest.d/feed-loopback"
        guard access(script, X_OK) == 0 else {
            throw FeedError("\(script) not found: run the rig from the repository's root")
        }
        output = "/tmp/vigie-feed-\(getpid())-\(format).out"
        pid = try spawn(
            ["/bin/bash", script, "--device", device, "--format", format, "--size", size, "--fps", "\(fps)"],
            output: output, errors: output + ".err")
        // Preparing a feed that the host did not prepare takes about 40 s under emulation.
        for _ in 0..<1800 {
            if let text = try? TextFile.read(path: output, limit: 1 << 16), text.hasPrefix("ready") { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                stopped = true
                throw FeedError("feed-loopback exited (status \(status)) before it was ready")
            }
            usleep(100_000)
        }
        stop()
        throw FeedError("feed-loopback was not ready within 180 s")
    }

    /// Frames the writer itself wrote late (its summary line, `…, N late`), known once stopped: the emulated
    /// guest did not run for a while, which is the machine's doing, not the unit's.
    private(set) var lateFrames: Int?

    /// Stops the feed (SIGTERM) and waits for it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGTERM)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let summary = (try? TextFile.read(path: output + ".err", limit: 1 << 16)) ?? ""
        if let line = summary.split(separator: "\n").last(where: { $0.hasSuffix(" late") }),
            let count = line.split(separator: " ").dropLast().last.flatMap({ Int($0) })
        {
            lateFrames = count
        }
        print(summary, terminator: "")
        unlink(output)
        unlink(output + ".err")
    }

    deinit { stop() }
}

struct FeedError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Starts `arguments` (an absolute path first) with its standard output in the file `output`, standard error
/// inherited, and no signal blocked (the test runner's threads block some, and a child inherits the mask).
func spawn(_ arguments: [String], output: String, errors: String? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    if let errors { posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attributes, &empty)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var child: pid_t = 0
    let status = posix_spawn(&child, arguments[0], &actions, &attributes, argv, environ)
    guard status == 0 else { throw FeedError("cannot start \(arguments[0]): errno \(status)") }
    return child
}
