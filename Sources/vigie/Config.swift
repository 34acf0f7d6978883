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
            abstract: "Check a configuration file; print every problem as file:line: key: message.")

        @Argument(help: "The configuration file.")
        var file: String

        func run() throws {
            do {
                let configuration = try Configuration.load(path: file)
                print(
                    "\(file): valid (device \(configuration.deviceID), role \(configuration.role.rawValue), "
                        + "\(configuration.mask.polygons.count) masks, \(configuration.zones.count) zones)")
            } catch {
                throw CLIError(error.description)
            }
        }
    }
}
