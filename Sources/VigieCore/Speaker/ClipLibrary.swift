#if canImport(Glibc)
    import Glibc
#endif

/// The recorded messages a unit can play, by id: `<id>.wav` files in one folder (`[speaker] clips_dir`).
///
/// An id is 1 to 64 of `a-z 0-9 _ -`, never a path: a request names an id, and only a file this library listed
/// at start can be played. A file that is not a valid clip (bad name, not 16-bit PCM WAV, too large) is reported
/// by its file name and skipped.
public struct ClipLibrary: Sendable, Hashable {
    /// One playable clip.
    public struct Clip: Sendable, Hashable {
        /// Its id: the file name without `.wav`.
        public var id: String
        /// Absolute path of its file.
        public var path: String
        /// Seconds, at its own rate.
        public var duration: Double
        /// Frames per second and channels (1 or 2), as in the file.
        public var sampleRate: Int
        public var channels: Int
    }

    /// A file that was skipped, and why.
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The file's name in the folder (never a full path).
        public var file: String
        /// Why it was skipped.
        public var reason: String
        public var description: String { "\(file): \(reason)" }
    }

    /// Most clips listed; further files are reported and skipped.
    public static let maximumClips = 256

    /// The playable clips, by id.
    public private(set) var clips: [String: Clip] = [:]
    /// The files skipped, in name order.
    public private(set) var problems: [Problem] = []

    /// An empty library (a unit without `clips_dir`).
    public init() {}

    /// Whether `id` can name a clip: 1 to 64 of `a-z 0-9 _ -`.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D
            }
    }

    /// Lists and checks the clips in `directory` (each file is read once, to check it and learn its duration).
    /// A folder that cannot be read is one problem.
    public static func load(directory: String) -> ClipLibrary {
        var library = ClipLibrary()
        guard let folder = opendir(directory) else {
            library.problems.append(Problem(file: directory, reason: "cannot read: \(SystemError.describe(errno))"))
            return library
        }
        var names: [String] = []
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        closedir(folder)
        for name in names.sorted() {
            guard name.hasSuffix(".wav") else {
                library.problems.append(Problem(file: name, reason: "not a .wav file; skipped"))
                continue
            }
            let id = String(name.dropLast(4))
            guard isValidID(id) else {
                library.problems.append(
                    Problem(file: name, reason: "'\(id.prefix(64))' is not a clip id (1 to 64 of a-z 0-9 _ -); skipped")
                )
                continue
            }
            guard library.clips.count < maximumClips else {
                library.problems.append(Problem(file: name, reason: "more than \(maximumClips) clips; skipped"))
                continue
            }
            let path = directory + "/" + name
            var status = stat()
            guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
                library.problems.append(Problem(file: name, reason: "not a regular file; skipped"))
                continue
            }
            do {
                let audio = try WAV.read(path: path, name: name)
                library.clips[id] = Clip(
                    id: id, path: path, duration: audio.duration, sampleRate: audio.sampleRate,
                    channels: audio.channels)
            } catch {
                library.problems.append(Problem(file: name, reason: error.reason + "; skipped"))
            }
        }
        return library
    }

    /// The clip's samples, read again from its file (clips are not kept in memory).
    public func audio(id: String) throws(WAVError) -> PCMAudio? {
        guard let clip = clips[id] else { return nil }
        return try WAV.read(path: clip.path, name: clip.id + ".wav")
    }
}
