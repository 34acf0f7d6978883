#if canImport(Glibc)
    import Glibc
#endif

/// The board profiles a configuration selects with `[device] board = "<name>"`.
///
/// A profile is `<name>.toml` in one folder: the device's camera (`[source] uri`), GPIO chip and lines (`[gpio]`)
/// and sound card (`[audio]`) for one kind of unit. The folder is the configuration's `[device] board_dir` when it
/// has one, else `BoardProfiles.installedDirectory`. `demo` is also built in (`builtIn`), so `vigied --demo` and
/// any configuration on the demo board work from any folder with nothing installed; a `demo.toml` in the folder
/// is read first.
public struct BoardProfiles: Sendable, Hashable {
    /// Where packages install the profiles of the repository's `board/` folder.
    public static let installedDirectory = "/usr/share/vigie/board"
    /// Largest profile read (a profile is a few hundred bytes).
    public static let maximumFileSize = 64 * 1024
    /// Profiles compiled into the programs: name and text (kept identical to `board/<name>.toml` by a test).
    public static let builtIn: [String: String] = ["demo": DemoBoardProfile.text]

    /// One profile's text and where it was read.
    public struct Profile: Sendable, Hashable {
        public var name: String
        /// The file read, or `<built-in>/<name>.toml`: what errors inside it name.
        public var file: String
        public var text: String
    }

    /// Why a profile could not be had.
    public enum LookupFailure: Error, Sendable, Hashable {
        /// Not a board name (letters, digits, '-' or '_'): never taken as a path.
        case invalidName
        /// No such profile; `known` lists the boards there are.
        case unknown(known: [String])
        /// The file is there but cannot be read.
        case unreadable(file: String, reason: String)
    }

    /// The folder searched.
    public var directory: String

    public init(directory: String = installedDirectory) { self.directory = directory }

    /// A board name: 1 to 64 letters, digits, '-' or '_'.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy(ConfigurationReader.isIdentifierScalar)
    }

    /// The profile called `name`: `<directory>/<name>.toml`, or a built-in one.
    public func profile(named name: String) throws(LookupFailure) -> Profile {
        guard Self.isValidName(name) else { throw .invalidName }
        let file = "\(directory)/\(name).toml"
        do {
            return Profile(name: name, file: file, text: try TextFile.read(path: file, limit: Self.maximumFileSize))
        } catch .cannotOpen(errno: let code) where code == ENOENT || code == ENOTDIR {
            guard let text = Self.builtIn[name] else { throw .unknown(known: names()) }
            return Profile(name: name, file: "<built-in>/\(name).toml", text: text)
        } catch {
            throw .unreadable(file: file, reason: error.description)
        }
    }

    /// Every board there is, sorted: the folder's `*.toml` files with a valid name, and the built-in ones.
    public func names() -> [String] {
        var names = Set(Self.builtIn.keys)
        if let folder = opendir(directory) {
            defer { closedir(folder) }
            while let entry = readdir(folder) {
                let file = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                    String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard file.hasSuffix(".toml") else { continue }
                let name = String(file.dropLast(5))
                if Self.isValidName(name) { names.insert(name) }
            }
        }
        return names.sorted()
    }
}
