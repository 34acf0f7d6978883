import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// What the fleet's processes cost, read from /proc: resident memory, threads, open descriptors. Sampled while the
/// fleet runs so that the peaks are reported, not just the end.
final class ProcessFigures: Sendable {
    /// One process, or several added up (memory and threads summed; descriptors: the most in any one process,
    /// since the limits that matter are per process).
    struct Sample: Sendable {
        var residentBytes = 0
        var threads = 0
        var openFiles = 0

        /// `process` is a process id, or `self`.
        static func of(_ process: String) -> Sample {
            let status = "/proc/\(process)/status"
            return Sample(
                residentBytes: (statusField("VmRSS", of: status) ?? 0) * 1024,
                threads: statusField("Threads", of: status) ?? 0,
                openFiles: ProcessFigures.openFiles(of: process))
        }

        static func of(_ processes: [pid_t]) -> Sample {
            processes.map { of(String($0)) }.reduce(Sample()) {
                Sample(
                    residentBytes: $0.residentBytes + $1.residentBytes, threads: $0.threads + $1.threads,
                    openFiles: max($0.openFiles, $1.openFiles))
            }
        }
    }

    private let peak = Mutex(Sample())

    /// Samples the processes `processes()` names every `interval`, until the task is cancelled.
    func sample(every interval: Duration, _ processes: @Sendable () -> [pid_t]) async {
        while !Task.isCancelled {
            let now = Sample.of(processes())
            peak.withLock {
                $0.residentBytes = max($0.residentBytes, now.residentBytes)
                $0.threads = max($0.threads, now.threads)
                $0.openFiles = max($0.openFiles, now.openFiles)
            }
            try? await Task.sleep(for: interval)
        }
    }

    var peaks: Sample { peak.withLock { $0 } }

    /// A `Name:   value` line of a /proc status file, as an integer (kB for memory).
    static func statusField(_ name: String, of path: String) -> Int? {
        guard let text = read(path) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            return Int(line.dropFirst(name.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    static func openFiles(of process: String) -> Int {
        guard let folder = opendir("/proc/\(process)/fd") else { return 0 }
        defer { closedir(folder) }
        var count = 0
        while readdir(folder) != nil { count += 1 }
        // "." and "..", and for this process the descriptor of the listing itself.
        return count - (process == "self" ? 3 : 2)
    }

    /// The whole of a (small) file, or nil.
    static func read(_ path: String) -> String? {
        let file = open(path, O_RDONLY | O_CLOEXEC)
        guard file >= 0 else { return nil }
        defer { close(file) }
        return (try? SystemCall.readAll(file)).map { String(decoding: $0, as: UTF8.self) }
    }
}
