import Foundation
import Testing

@testable import VigieDaemon

/// `--snapshot-dir`: names that never collide nor leave the folder, a size cap and an age cap, other files left
/// alone.
@Suite("Snapshot folder")
struct SnapshotArchiveTests {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-snapshots-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func names(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    @Test func namesNeverCollideNorLeaveTheFolder() throws {
        let folder = try Self.folder()
        let archive = SnapshotArchive(folder: folder)
        let now = 1_796_000_000.25
        var paths: [String] = []
        for zone in ["gate", "gate", "../../etc/passwd", "/abs", "école ☂", ""] {
            paths.append(try archive.write([1, 2, 3], deviceID: "unit/1", zone: zone, now: now).get())
        }
        #expect(Set(paths).count == 6, "the same time and zone twice is two files")
        for path in paths {
            #expect(path.hasPrefix(folder + "/"))
            #expect(!path.dropFirst(folder.count + 1).contains("/"), "\(path)")
            #expect(!path.contains(".."))
        }
        #expect(try Self.names(folder).count == 6)
        #expect(paths[0].hasSuffix("/20261130T005320.250Z-unit_1-gate.jpg"), "\(paths[0])")
        #expect(paths[1].hasSuffix("-gate-1.jpg"))
    }

    @Test func theOldestGoFirstOverTheSizeCap() throws {
        let folder = try Self.folder()
        var limits = SnapshotArchive.Limits()
        limits.bytes = 1000
        #expect(FileManager.default.createFile(atPath: folder + "/notes.txt", contents: Data(count: 5000)))
        let archive = SnapshotArchive(folder: folder, limits: limits)
        for index in 0..<5 {
            _ = try archive.write(
                [UInt8](repeating: 0, count: 300), deviceID: "u", zone: "z\(index)", now: 1_796_000_000 + Double(index)
            ).get()
        }
        let names = try Self.names(folder)
        #expect(
            names.filter { $0.hasSuffix(".jpg") }.map { $0.split(separator: "-").last! } == [
                "z2.jpg", "z3.jpg", "z4.jpg",
            ])
        #expect(names.contains("notes.txt"), "a file Vigie did not write is never removed")
    }

    @Test func oldSnapshotsGoAfterTheAgeCapAlsoAcrossRestarts() throws {
        let folder = try Self.folder()
        var limits = SnapshotArchive.Limits()
        limits.age = 3600
        let old = SnapshotArchive(folder: folder, limits: limits)
        let start = SnapshotArchive.now() - 7200
        _ = try old.write([1], deviceID: "u", zone: "old", now: start).get()
        // The file's time is what a restarted daemon sees.
        let path = folder + "/" + (try Self.names(folder)[0])
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: start)], ofItemAtPath: path)
        #expect(SnapshotArchive(folder: folder, limits: limits, now: start + 1).entries.count == 1, "found, and young")
        let restarted = SnapshotArchive(folder: folder, limits: limits)
        #expect(restarted.entries.isEmpty, "what an earlier run wrote is found, and let go at start when too old")
        _ = try restarted.write([2], deviceID: "u", zone: "new", now: SnapshotArchive.now()).get()
        let names = try Self.names(folder)
        #expect(names.count == 1 && names[0].hasSuffix("-new.jpg"), "\(names)")
    }

    /// A quiet unit writes nothing new: what is past the age goes all the same (at start, then once a minute).
    @Test func aQuietUnitLetsOldSnapshotsGo() throws {
        let folder = try Self.folder()
        var limits = SnapshotArchive.Limits()
        limits.age = 3600
        let now = SnapshotArchive.now()
        let archive = SnapshotArchive(folder: folder, limits: limits, now: now)
        _ = try archive.write([1], deviceID: "u", zone: "a", now: now).get()
        _ = try archive.write([2], deviceID: "u", zone: "b", now: now + 1800).get()
        archive.pruneIfDue(now: now + 3700)
        #expect(try Self.names(folder).map { $0.hasSuffix("-b.jpg") } == [true], "the first is past the age")
        let restarted = SnapshotArchive(folder: folder, limits: limits, now: now + 1800 + 3700)
        let left = try Self.names(folder)
        #expect(restarted.entries.isEmpty && left.isEmpty, "pruned at start too")
    }

    /// A picture larger than the whole cap is still kept (the newest always is), the older ones go.
    @Test func theNewestIsKeptEvenOverTheCap() throws {
        let folder = try Self.folder()
        var limits = SnapshotArchive.Limits()
        limits.bytes = 100
        let archive = SnapshotArchive(folder: folder, limits: limits)
        let now = SnapshotArchive.now()
        _ = try archive.write([UInt8](repeating: 0, count: 50), deviceID: "u", zone: "small", now: now).get()
        let big = try archive.write([UInt8](repeating: 0, count: 500), deviceID: "u", zone: "big", now: now + 1).get()
        #expect(FileManager.default.fileExists(atPath: big))
        #expect(try Self.names(folder).count == 1)
    }
}
