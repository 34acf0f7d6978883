/// Where the unit's speaker is: an ALSA sound card, or a file for the demo and tests.
///
/// Plain validated values (from the board profile and the configuration) for the part that plays sound.
public struct AudioSettings: Sendable, Hashable {
    /// Where sound goes.
    public enum Output: Sendable, Hashable {
        /// An ALSA card by its id (the name in `/proc/asound/cards` and `aplay -l`, e.g. `Headphones` or `Device`),
        /// played through `plughw:CARD=<id>`: an id stays the same when cards are probed in another order.
        case alsa(card: String)
        /// No sound card: what would be played is written to this file (an absolute path).
        case file(path: String)
    }

    public var output: Output
    /// The simple mixer control that sets the volume (`PCM`, `Speaker`, `Master`…); `nil` leaves the volume as it
    /// is. Only with a sound card.
    public var mixerControl: String?

    public init(output: Output, mixerControl: String? = nil) {
        self.output = output
        self.mixerControl = mixerControl
    }

    /// An ALSA card id: 1 to 31 letters, digits, '_' or '-' (ALSA's own ids are at most 15; this accepts a card
    /// number too).
    public static func isValidCard(_ card: String) -> Bool {
        (1...31).contains(card.utf8.count) && card.unicodeScalars.allSatisfy(ConfigurationReader.isIdentifierScalar)
    }

    /// A mixer control name: 1 to 43 printable ASCII characters (ALSA keeps 44 bytes with the terminator), spaces
    /// allowed (`Headphone Playback`), not at either end.
    public static func isValidMixerControl(_ name: String) -> Bool {
        (1...43).contains(name.utf8.count) && name.utf8.allSatisfy({ (0x20...0x7E).contains($0) })
            && name.first != " " && name.last != " "
    }
}
