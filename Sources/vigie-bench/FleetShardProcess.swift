import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// The coordinator's end of one shard (`FleetShard`): its process, the pipe its commands go down, and its answers.
/// The units' link events it prints go straight to the `FleetLog`.
final class FleetShardProcess: Sendable {
    let process: ChildProcess
    let first: Int
    let count: Int
    private let input: Int32
    private let answers = Mutex<[String]>([])
    private let ended = Atomic<Bool>(false)

    init(first: Int, count: Int, broker: BrokerURL, folder: String, log: FleetLog) throws(FleetError) {
        self.first = first
        self.count = count
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else {
            throw .process("cannot make pipes: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec (this process starts its children from one task): the other shards and the broker must not
        // hold these pipes open, or a shard would never see the end of its input.
        for descriptor in toChild + fromChild { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        let arguments = [
            "fleet-shard", "--first", String(first), "--count", String(count), "--broker", "\(broker)", "--folder",
            folder,
        ]
        let (childInput, childOutput) = (toChild[0], fromChild[1])
        process = try ChildProcess(ChildProcess.ownExecutable(), arguments) { actions in
            posix_spawn_file_actions_adddup2(&actions, childInput, 0)
            posix_spawn_file_actions_adddup2(&actions, childOutput, 1)
        }
        close(toChild[0])
        close(fromChild[1])
        input = toChild[1]
        LineReader.start(
            fromChild[0],
            line: { [self] line in
                if !log.record(line) { answers.withLock { $0.append(line) } }
            },
            end: { [self] in ended.store(true, ordering: .relaxed) })
    }

    /// Sends one command.
    func send(_ command: String) {
        let bytes = Array((command + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
    }

    /// The next answer, within `timeout`.
    func answer(within timeout: Duration) async throws(FleetError) -> String {
        var answer: String?
        let arrived = await Poll.until(timeout: timeout, every: .milliseconds(2)) {
            answer = answers.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            return answer != nil || ended.load(ordering: .relaxed)
        }
        guard arrived, let answer else {
            throw .process("shard of units \(first)…\(first + count - 1) did not answer (process \(process.pid))")
        }
        if answer.hasPrefix("error") { throw .process("shard of units \(first)…\(first + count - 1): \(answer)") }
        return answer
    }

    /// Asks it to exit, and makes sure it has.
    func quit() async {
        send("quit")
        close(input)
        await process.stop(signal: 0, timeout: .seconds(5))
    }
}

extension [FleetShardProcess] {
    /// Sends `command` to every shard at once, then gathers their answers (in shard order).
    func ask(_ command: String, within timeout: Duration = .seconds(120)) async throws(FleetError) -> [String] {
        for shard in self { shard.send(command) }
        return try await answers(within: timeout)
    }

    /// The next answer of every shard (in shard order).
    func answers(within timeout: Duration) async throws(FleetError) -> [String] {
        var answers: [String] = []
        for shard in self { answers.append(try await shard.answer(within: timeout)) }
        return answers
    }

    /// The number at the end of each shard's answer, added up.
    func total(_ command: String) async throws(FleetError) -> Int {
        try await ask(command).reduce(0) { $0 + (Int($1.split(separator: " ").last ?? "") ?? 0) }
    }
}
