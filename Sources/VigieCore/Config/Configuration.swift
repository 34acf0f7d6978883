/// What a unit does and how: loaded from a TOML file, validated as a whole before anything starts.
public struct Configuration: Sendable, Hashable {
    /// What kind of unit this is (see the board profile).
    public enum Role: String, Sendable, Hashable, CaseIterable {
        case pole, school, callpoint
    }

    /// Where frames come from.
    public enum Source: Sendable, Hashable {
        /// A generated street scene: no hardware, for the demo and tests.
        case synthetic
        /// A Y4M file (absolute path), replayed at its frame rate.
        case y4m(path: String)
        /// A V4L2 camera device.
        case v4l2(device: String)
    }

    public var deviceID = "vigie-unit"
    public var role = Role.pole
    /// The board profile the file selects (`[device] board`), `nil` when it selects none.
    public var board: String?
    /// Where that profile was read (`<built-in>/demo.toml` for a built-in one).
    public var boardFile: String?
    public var source = Source.synthetic
    /// Replay a file source from the start when it ends.
    public var loop = true
    /// What to ask a camera for (it may give the nearest it has).
    public var captureWidth = 640
    public var captureHeight = 480
    public var captureRate = 15.0
    /// The size asked of a camera is the framing the masks were drawn for (see `CameraFraming`).
    public var framing: CameraFraming { CameraFraming(width: captureWidth, height: captureHeight) }
    public var motion = MotionSettings()
    public var mask = PrivacyMask.none
    /// Empty means the whole image.
    public var zones: [Zone] = []
    /// JPEG quality for snapshots, 1…100.
    public var snapshotQuality = 80
    /// Where the outbox and the unit's counters live (must survive reboots).
    public var stateDirectory = "/var/lib/vigie"
    /// The call point's button and LEDs and the cabinet's tamper switch; `nil` on a unit without GPIO.
    public var gpio: GPIOSettings?
    /// The speaker; `nil` on a unit without one.
    public var audio: AudioSettings?
    /// What the speaker says and plays, and where (`[speaker]` over `[audio]`); `nil` on a unit without one.
    public var speaker: SpeakerSettings?
    /// The centre's broker; `nil` runs the unit standalone (events in the log only).
    public var uplink: UplinkSettings?

    public init() {}

    /// A device id: 1 to 64 letters, digits, '-' or '_' (it is part of MQTT topics and file names).
    public static func isValidDeviceID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.unicodeScalars.allSatisfy(ConfigurationReader.isIdentifierScalar)
    }
}

extension Configuration {
    /// What a reload cannot apply to a running unit, by key: the unit's identity, where it keeps its state, its
    /// uplink, and the hardware parts opened at start (GPIO, audio, the speaker and its clips). The camera, masks, zones, motion settings and
    /// snapshots are applied live (a new camera, size or rate reopens the camera).
    public func keysNeedingRestart(comparedTo running: Configuration) -> [String] {
        var keys: [String] = []
        if deviceID != running.deviceID { keys.append("device.id") }
        if role != running.role { keys.append("device.role") }
        if stateDirectory != running.stateDirectory { keys.append("storage.state_dir") }
        if uplink != running.uplink { keys.append("uplink") }
        if gpio != running.gpio { keys.append("gpio") }
        if audio != running.audio { keys.append("audio") }
        if speaker != running.speaker { keys.append("speaker") }
        return keys
    }
}
