internal import CEspeakNG
import Synchronization
import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Text to speech with espeak-ng, in memory: samples come back through its synth callback, never to a device.
///
/// espeak-ng keeps one global state and is not thread-safe, so every call goes through one lock; synthesis is
/// blocking work (run it off the concurrency pool). It reads only its data folder and writes nothing (no `$HOME`).
public enum SpeechSynthesizer {
    /// The voice used when none is asked for.
    public static let defaultVoice = "fr"

    /// espeak-ng's state: `nil` until initialised, then its sample rate (or why it could not start).
    private static let state = Mutex<Result<Int, AudioError>?>(nil)

    /// Folders that may hold `espeak-ng-data` (Debian's multiarch paths, then the upstream default).
    static let dataParents = [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf", "/usr/lib",
        "/usr/share", "/usr/local/share",
    ]

    /// The folder that holds `espeak-ng-data`, or `nil` when espeak-ng's data is not installed.
    public static func dataParent() -> String? {
        dataParents.first { access("\($0)/espeak-ng-data/phontab", R_OK) == 0 }
    }

    /// Speaks `text` (UTF-8, plain text) with `voice` at `wordsPerMinute`, as mono 16-bit samples at espeak-ng's
    /// rate (22050 Hz). Stops at `maximumSeconds` of audio.
    public static func synthesize(
        _ text: String, voice: String = defaultVoice, wordsPerMinute: Int = 160, maximumSeconds: Double = 120
    ) throws(AudioError) -> PCMAudio {
        guard SpeakerSettings.isValidVoiceName(voice) else { throw .unknownVoice(voice) }
        let result: Result<PCMAudio, AudioError> = state.withLock { state in
            if state == nil { state = initialize() }
            let rate: Int
            switch state! {
            case .failure(let error): return .failure(error)
            case .success(let value): rate = value
            }
            guard espeak_SetVoiceByName(voice) == EE_OK else { return .failure(.unknownVoice(voice)) }
            espeak_SetParameter(espeakRATE, Int32(min(400, max(80, wordsPerMinute))), 0)
            let collector = Collector(limit: Int(maximumSeconds * Double(rate)))
            let context = Unmanaged.passRetained(collector)
            defer { context.release() }
            let status = text.withCString { chars in
                espeak_Synth(
                    chars, strlen(chars) + 1, 0, POS_CHARACTER, 0, UInt32(espeakCHARS_UTF8), nil,
                    context.toOpaque())
            }
            // In synchronous mode espeak_Synth returns when done; a stop asked by the callback is not an error.
            guard status == EE_OK else { return .failure(.synthesisFailed(code: Int32(status.rawValue))) }
            return .success(PCMAudio(sampleRate: rate, channels: 1, samples: collector.samples))
        }
        return try result.get()
    }

    /// Starts espeak-ng once, synchronous, samples to the callback.
    private static func initialize() -> Result<Int, AudioError> {
        guard let parent = dataParent() else {
            return .failure(
                .synthesizerUnavailable(reason: "espeak-ng-data not found (install the espeak-ng-data package)"))
        }
        let rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, parent, Int32(espeakINITIALIZE_DONT_EXIT))
        guard rate > 0 else {
            return .failure(.synthesizerUnavailable(reason: "espeak_Initialize failed with \(parent)/espeak-ng-data"))
        }
        espeak_SetSynthCallback { samples, count, events in
            guard let events, let context = events.pointee.user_data else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
            guard let samples, count > 0 else { return 0 }
            return collector.append(UnsafeBufferPointer(start: samples, count: Int(count))) ? 0 : 1
        }
        return .success(Int(rate))
    }

    /// Where one synthesis's samples go (touched only under `state`'s lock, on the synthesizing thread).
    private final class Collector {
        var samples: [Int16] = []
        let limit: Int

        init(limit: Int) { self.limit = limit }

        /// Appends; `false` once the limit is reached (the callback then asks espeak-ng to stop).
        func append(_ buffer: UnsafeBufferPointer<Int16>) -> Bool {
            let room = limit - samples.count
            samples += buffer.prefix(max(0, room))
            return samples.count < limit
        }
    }
}
