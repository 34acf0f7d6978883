import ArgumentParser
import VigieCore

extension Vigie {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Configuration files.", subcommands: [Validate.self])
    }
}

extension Vigie.Config {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file; print every problem as file:line: key: message.",
            discussion: """
                The board profile the file selects ([device] board) is read and checked with it: a problem inside \
                the profile names the profile's file. Profiles are read from the file's [device] board_dir, else \
                from --board-dir.
                """,
            aliases: ["check"])

        @Argument(help: "The configuration file.")
        var file: String

        @Option(help: "Where board profiles are when the file has no [device] board_dir.")
        var boardDir = BoardProfiles.installedDirectory

        func run() throws {
            do {
                let configuration = try Configuration.load(path: file, boardDirectory: boardDir)
                let board =
                    configuration.boardFile.map { "board \(configuration.board ?? "") from \($0)" } ?? "no board"
                print(
                    "\(file): valid (device \(configuration.deviceID), role \(configuration.role.rawValue), \(board), "
                        + "\(configuration.mask.polygons.count) masks, \(configuration.zones.count) zones)")
            } catch {
                throw CLIError(error.description)
            }
        }
    }
}
