import Testing
import VigieCore
import VigieStore

#if canImport(Glibc)
    import Glibc
#endif

/// A power cut in the middle of the event store's writes: a child process (`vigie-bench store-writer`) commits
/// events with snapshots as fast as it can and says after each commit how many are committed; it is SIGKILLed at
/// once, mid-write, and the store reopened.
@Suite("Event store power safety")
struct EventStorePowerTests {
    static func productsFolder() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = String(decoding: buffer[..<max(0, count)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
    }

    /// The last "committed N" line the child wrote completely.
    static func lastCommitted(_ path: String) -> Int {
        guard let file = fopen(path, "r") else { return 0 }
        defer { fclose(file) }
        var text: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            text += buffer[..<count]
        }
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        guard let last = lines.last else { return 0 }
        return Int(String(decoding: last, as: UTF8.self).split(separator: " ").last ?? "") ?? 0
    }

    @Test(arguments: [40, 120, 300])
    func aKilledWriterLosesNothingCommitted(after commits: Int) throws {
        let directory = SQLiteOutboxTests.directory()
        let output = directory + "/child.log"
        let executable = Self.productsFolder() + "/vigie-bench"
        #expect(access(executable, X_OK) == 0, "build vigie-bench first (swift build --build-tests builds it)")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var pid: pid_t = 0
        let arguments = [executable, "store-writer", directory]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&pid, executable, &actions, nil, &argv, environ) == 0)
        // Killed as soon as it has committed `commits` batches: it is then in the middle of the next one.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(60)
        while Self.lastCommitted(output) < commits * 5 && clock.now < deadline { usleep(200) }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let committed = Self.lastCommitted(output)
        #expect(committed >= commits * 5, "the child wrote in time")
        // Reopening runs the integrity check (quick_check); a damaged file would throw.
        let store = try EventStore(directory: directory)
        var problems: [String] = []
        try SQLiteShell.rows(EventStore.path(directory: directory), "PRAGMA integrity_check") { problems.append($0) }
        #expect(problems == ["ok"])
        let sequences = try store.events(EventFilter(limit: 1_000_000)).compactMap(\.sequence)
        // Every commit the child reported is there, in full; what it was writing is there whole or not at all.
        #expect(sequences.count >= committed)
        #expect(sequences == Array(1...Int64(sequences.count)))
        #expect(sequences.count % 5 == 0, "a batch is one transaction")
        #expect(try store.counts().snapshots == sequences.count)
        #expect(try store.snapshot(of: "K\(1_000_000 + committed)")?.count == 16 << 10)
    }
}
