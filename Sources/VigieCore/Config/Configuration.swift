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
    /// Camera tamper detection (`[tamper]`).
    public var tamper = TamperSettings()
    /// Lines whose crossing is reported (`[[line]]`).
    public var lines: [LineRule] = []
    /// Abandoned objects (`[abandoned]`), off by default.
    public var abandoned = AbandonedSettings()
    public var mask = PrivacyMask.none
    /// Motion zones (empty: the whole image) and rule zones (`intrusion`, `density`), in the file's order.
    public var zones: [Zone] = []
    /// The crowd movement rule (`[crowd]`).
    public var crowd = CrowdSettings()
    /// JPEG quality for snapshots, 1…100.
    public var snapshotQuality = 80
    /// Where the outbox and the unit's counters live (must survive reboots).
    public var stateDirectory = "/var/lib/vigie"
    /// What the local event store keeps, and for how long (`[storage] retention_days`, `max_mb`).
    public var storage = StorageSettings()
    /// The call point's button and LEDs and the cabinet's tamper switch; `nil` on a unit without GPIO.
    public var gpio: GPIOSettings?
    /// The speaker; `nil` on a unit without one.
    public var audio: AudioSettings?
    /// What the speaker says and plays, and where (`[speaker]` over `[audio]`); `nil` on a unit without one.
    public var speaker: SpeakerSettings?
    /// How the emergency call point behaves (`[callpoint]`); it runs on a unit whose `[gpio]` has a button line.
    public var callPoint = CallPointSettings()
    /// The centre's broker; `nil` runs the unit standalone (events in the log only).
    public var uplink: UplinkSettings?

    public init() {}

    /// A device id: 1 to 64 letters, digits, '-' or '_' (it is part of MQTT topics and file names).
    public static func isValidDeviceID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.unicodeScalars.allSatisfy(ConfigurationReader.isIdentifierScalar)
    }
}

extension Configuration {
    /// This configuration as a running unit can apply it by a reload: what only a restart applies (the unit's
    /// identity, where it keeps its state, its uplink, and the hardware parts opened at start: GPIO, audio, the
    /// speaker and its clips) keeps `running`'s value, and the keys that differed are returned with it. The
    /// camera, masks, zones, motion settings and snapshots apply live (a new camera, size or rate reopens it).
    public func applicable(over running: Configuration) -> (configuration: Configuration, restartNeeded: [String]) {
        var applicable = self
        var restartNeeded: [String] = []
        func keep<Value: Equatable>(_ key: String, _ path: WritableKeyPath<Configuration, Value>) {
            guard applicable[keyPath: path] != running[keyPath: path] else { return }
            restartNeeded.append(key)
            applicable[keyPath: path] = running[keyPath: path]
        }
        keep("device.id", \.deviceID)
        keep("device.role", \.role)
        keep("storage.state_dir", \.stateDirectory)
        keep("uplink", \.uplink)
        keep("gpio", \.gpio)
        keep("audio", \.audio)
        keep("speaker", \.speaker)
        keep("callpoint", \.callPoint)
        return (applicable, restartNeeded)
    }
}
