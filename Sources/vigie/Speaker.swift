import ArgumentParser
import VigieAudio
import VigieCore

extension Vigie {
    struct Say: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Speak a sentence through the speaker, or write it to a WAV file.",
            discussion: """
                The sentence is synthesized by espeak-ng (no sound server, nothing written under $HOME) and played \
                on the ALSA PCM --pcm, or with --output written as a 16-bit mono WAV file (22050 Hz) instead. \
                This runs here, not in the daemon: to make a unit speak from the centre, send cmd/say.
                """)

        @Argument(help: "The text to speak.")
        var text: String

        @Option(help: "The espeak-ng voice (fr, en-gb, de, fr+f3…).")
        var lang = SpeechSynthesizer.defaultVoice

        @Option(help: "The ALSA playback PCM.")
        var pcm = "default"

        @Option(help: "Write the sentence to this WAV file instead of playing it.")
        var output: String?

        @Option(help: "Speaking rate, words per minute (80 to 400).")
        var wordsPerMinute = 160

        func validate() throws {
            guard SpeakerSettings.isValidVoiceName(lang) else {
                throw ValidationError("--lang \(lang): not a voice name (e.g. fr, en-gb)")
            }
            guard SpeakerSettings.isValidPCMName(pcm) else { throw ValidationError("--pcm \(pcm): not a PCM name") }
            guard (80...400).contains(wordsPerMinute) else {
                throw ValidationError("--words-per-minute: from 80 to 400")
            }
            guard !text.allSatisfy(\.isWhitespace) else { throw ValidationError("the text is empty") }
        }

        func run() throws {
            do throws(AudioError) {
                let speech = try SpeechSynthesizer.synthesize(text, voice: lang, wordsPerMinute: wordsPerMinute)
                if let output {
                    try SpeakerOutput.write(WAV.encode(speech), to: output)
                    print("\(output): \(Self.seconds(speech.duration)) s of speech, \(speech.sampleRate) Hz mono")
                } else {
                    try SpeakerOutput.pcm(pcm).play(speech)
                }
            } catch {
                throw CLIError(error.description)
            }
        }

        static func seconds(_ value: Double) -> String {
            let hundredths = Int((value * 100).rounded())
            return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
        }
    }

    struct Speaker: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the speaker.", subcommands: [Test.self])
    }

    struct Clips: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The recorded clips a unit can play.", subcommands: [List.self])
    }
}

extension Vigie.Speaker {
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Play a short tone; the exit status says whether the device opened and took it.",
            discussion: "A 1 kHz tone for 1 s at a third of full scale. Output only: nothing is recorded.")

        @Option(help: "The ALSA playback PCM.")
        var pcm = "default"

        func validate() throws {
            guard SpeakerSettings.isValidPCMName(pcm) else { throw ValidationError("--pcm \(pcm): not a PCM name") }
        }

        func run() throws {
            do throws(AudioError) {
                let played = try SpeakerOutput.pcm(pcm).play(PCMAudio.tone(frequency: 1000, seconds: 1))
                print("\(pcm): played \(Vigie.Say.seconds(played)) s of tone")
            } catch {
                throw CLIError(error.description)
            }
        }
    }
}

extension Vigie.Clips {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the clips of a unit's [speaker] clips_dir, with their durations; report bad files.")

        @Option(help: "The unit's configuration file.")
        var config = "/etc/vigie/vigied.toml"

        @Option(help: "Where board profiles are when the file has no [device] board_dir.")
        var boardDir = BoardProfiles.installedDirectory

        @Flag(help: "Machine-readable output.")
        var json = false

        func run() throws {
            let configuration: Configuration
            do {
                configuration = try Configuration.load(path: config, boardDirectory: boardDir)
            } catch {
                throw CLIError(error.description)
            }
            guard let folder = configuration.speaker?.clipsDirectory else {
                throw CLIError("\(config): no [speaker] clips_dir")
            }
            let library = ClipLibrary.load(directory: folder)
            let clips = library.clips.values.sorted { $0.id < $1.id }
            if json {
                var writer = JSONWriter()
                writer.beginObject()
                writer.string("folder", folder)
                writer.beginArray("clips")
                for clip in clips {
                    writer.beginObject()
                    writer.string("id", clip.id)
                    writer.number("duration_s", clip.duration, decimals: 2)
                    writer.integer("sample_rate", clip.sampleRate)
                    writer.integer("channels", clip.channels)
                    writer.endObject()
                }
                writer.endArray()
                writer.beginArray("skipped")
                for problem in library.problems {
                    writer.beginObject()
                    writer.string("file", problem.file)
                    writer.string("reason", problem.reason)
                    writer.endObject()
                }
                writer.endArray()
                writer.endObject()
                print(writer.text)
            } else {
                for clip in clips {
                    print(
                        "\(clip.id)\t\(Vigie.Say.seconds(clip.duration)) s\t\(clip.sampleRate) Hz "
                            + (clip.channels == 1 ? "mono" : "stereo"))
                }
                for problem in library.problems { Terminal.error("\(problem)") }
            }
            if !library.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
