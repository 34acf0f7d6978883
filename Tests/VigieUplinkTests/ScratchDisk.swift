import Foundation
import Testing

/// A small filesystem mounted by the test (it must run as root), to put an outbox on a disk that fails: a
/// size-limited tmpfs to fill up, or an ext4 image on a loop device that the kernel turns read-only on an
/// error (`errors=remount-ro`), which is what happens to a unit whose SD card fails. Unmounted when released.
final class ScratchDisk: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let path: String
    private let image: String?
    private var filler: String { path + "/filler" }

    private init(path: String, image: String?) {
        self.path = path
        self.image = image
    }

    /// A tmpfs of `kilobytes` (rounded to whole pages by the kernel).
    static func tmpfs(kilobytes: Int) throws -> ScratchDisk {
        let folder = try temporaryFolder("tmpfs").path
        try run("/usr/bin/mount", "-t", "tmpfs", "-o", "size=\(kilobytes)k,mode=0755", "tmpfs", folder)
        return ScratchDisk(path: folder, image: nil)
    }

    /// An ext4 filesystem of `megabytes` in an image file, mounted through a loop device.
    static func ext4(megabytes: Int) throws -> ScratchDisk {
        let folder = try temporaryFolder("ext4").path
        let image = folder + ".img"
        guard FileManager.default.createFile(atPath: image, contents: nil),
            truncate(image, off_t(megabytes) << 20) == 0
        else { throw Failure(description: "cannot make \(image)") }
        try run("/usr/sbin/mkfs.ext4", "-q", "-F", image)
        try run("/usr/bin/mount", "-o", "loop,errors=remount-ro", image, folder)
        return ScratchDisk(path: folder, image: image)
    }

    /// Mounts with `make`, or, where that is impossible (not root, no loop device), fails the test in CI and in
    /// the rig (`CI` or `VIGIE_RIG` set) and records a known issue elsewhere. Nil when it could not mount.
    static func mount(_ what: String, _ make: () throws -> ScratchDisk) -> ScratchDisk? {
        do {
            return try make()
        } catch {
            let environment = ProcessInfo.processInfo.environment
            if environment["CI"] != nil || environment["VIGIE_RIG"] != nil {
                Issue.record("cannot mount \(what), which this test needs: \(error)")
            } else {
                withKnownIssue("cannot mount \(what) (the storage fault tests run as root): \(error)") { throw error }
            }
            return nil
        }
    }

    /// Fills the filesystem until a write fails for want of space.
    func fill() throws {
        let fd = open(filler, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(filler): errno \(errno)") }
        defer { close(fd) }
        let block = [UInt8](repeating: 0x55, count: 4096)
        while true {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                guard errno == ENOSPC else { throw Failure(description: "filling \(filler): errno \(errno)") }
                return
            }
            if written < block.count { return }
        }
    }

    /// Gives the space back.
    func free() throws {
        guard unlink(filler) == 0 else { throw Failure(description: "cannot remove \(filler): errno \(errno)") }
    }

    /// Makes ext4 see an error, as a failing card would make it: with `errors=remount-ro` it turns read-only at
    /// once, files open for writing included (a plain `mount -o remount,ro` is refused while files are open for
    /// writing, so it cannot break a running database).
    func breakToReadOnly() throws {
        let device = try Self.output("/usr/bin/findmnt", "-no", "SOURCE", path)
        let control = "/sys/fs/ext4/\(URL(fileURLWithPath: device).lastPathComponent)/trigger_fs_error"
        guard FileManager.default.fileExists(atPath: control) else {
            throw Failure(description: "\(control) does not exist")
        }
        try "1".write(toFile: control, atomically: false, encoding: .utf8)
    }

    /// Remounts it read-only (refused while a file there is open for writing) or read-write again.
    func remount(readOnly: Bool) throws {
        try Self.run("/usr/bin/mount", "-o", readOnly ? "remount,ro" : "remount,rw", path)
    }

    /// Whether writes are refused on it now (a new file cannot be made: EROFS).
    var isReadOnly: Bool {
        let probe = path + "/probe-\(UUID().uuidString.prefix(8))"
        let fd = open(probe, O_WRONLY | O_CREAT, 0o644)
        guard fd >= 0 else { return errno == EROFS }
        close(fd)
        unlink(probe)
        return false
    }

    deinit {
        // Lazily: a process may still hold a file open there; the kernel detaches it once it lets go.
        _ = try? Self.run("/usr/bin/umount", "-l", path)
        if let image { unlink(image) }
    }

    @discardableResult
    private static func run(_ path: String, _ arguments: String...) throws -> String {
        try output(path, arguments)
    }

    private static func output(_ path: String, _ arguments: String...) throws -> String {
        try output(path, arguments)
    }

    private static func output(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(([path] + arguments).joined(separator: " ")): \(text)")
        }
        return text
    }
}
