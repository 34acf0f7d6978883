import ArgumentParser

/// The technician's command line.
@main
struct Vigie: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigie",
        abstract: "Check, configure and analyse a Vigie camera unit.",
        discussion: """
            Offline commands (analyze, mask preview, config validate, say, speaker test, clips list) work on files and need no daemon; button watch and led test take the GPIO lines themselves, with the daemon stopped.
            Exit status: 0 on success, 1 when the input is invalid, 2 on a usage error.
            """,
        subcommands: [
            Status.self, Doctor.self, Camera.self, Config.self, Mask.self, Analyze.self, Generate.self,
            Say.self, Speaker.self, Clips.self, CallPoint.self, Button.self, LED.self, Events.self, Export.self,
        ]
    )
}
