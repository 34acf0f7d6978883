import Foundation
import VigieAudio
import VigieCore

/// ALSA through a private configuration: `ALSA_CONFIG_PATH` names an asoundrc of our own, so no sound card (and
/// not the machine's own ALSA set-up) is involved. `vigiefile:FILE=<path>` is a PCM of type `file` that writes
/// the raw samples to `<path>` and passes them on to the `null` plugin, which throws them away.
enum PrivateALSA {
    static let folder: String = {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "vigie-audio-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        ).path
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let configuration = """
            pcm.vigiefile {
                @args [ FILE ]
                @args.FILE { type string }
                type file
                slave.pcm { type null }
                file $FILE
                format "raw"
            }
            pcm.null { type null }
            # The kernel rig's snd-aloop card: what is played on device 0 is captured on device 1.
            pcm.rigplay { type hw card "Loopback" device 0 subdevice 0 }
            pcm.rigcapture { type hw card "Loopback" device 1 subdevice 0 }

            """
        let path = folder + "/asoundrc"
        try! configuration.write(toFile: path, atomically: true, encoding: .utf8)
        // Before the first ALSA call of the process, which reads its configuration once.
        setenv("ALSA_CONFIG_PATH", path, 1)
        return folder
    }()

    /// A PCM name that writes to a new file in the private folder, and that file's path.
    static func filePCM(_ name: String) -> (pcm: String, path: String) {
        let path = folder + "/\(name)-\(UInt32.random(in: 0...UInt32.max)).raw"
        return ("vigiefile:FILE=\"\(path)\"", path)
    }

    /// The 16-bit little-endian samples in `path`.
    static func samples(_ path: String) throws -> [Int16] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 2).map { Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        }
    }
}
