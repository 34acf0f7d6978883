internal import CALSA

/// Sets a card's playback volume through ALSA's simple mixer (`PCM`, `Speaker`, `Master`…).
public enum MixerVolume {
    /// Sets every channel of the playback control `control` on `card` (a mixer device name such as `hw:0` or
    /// `hw:Headphones`, or `default`) to `percent` (0…100) of its range.
    public static func set(card: String, control: String, percent: Int) throws(AudioError) {
        func fail(_ message: String) -> AudioError { .mixer(card: card, control: control, message: message) }
        PCMPlayback.silenceLibrary()
        var mixer: OpaquePointer?
        var code = snd_mixer_open(&mixer, 0)
        guard code >= 0, let mixer else { throw fail(PCMPlayback.message(code)) }
        defer { snd_mixer_close(mixer) }
        code = snd_mixer_attach(mixer, card)
        guard code >= 0 else { throw fail(PCMPlayback.message(code)) }
        code = snd_mixer_selem_register(mixer, nil, nil)
        guard code >= 0 else { throw fail(PCMPlayback.message(code)) }
        code = snd_mixer_load(mixer)
        guard code >= 0 else { throw fail(PCMPlayback.message(code)) }
        var id: OpaquePointer?
        code = snd_mixer_selem_id_malloc(&id)
        guard code >= 0, let id else { throw fail(PCMPlayback.message(code)) }
        defer { snd_mixer_selem_id_free(id) }
        snd_mixer_selem_id_set_index(id, 0)
        snd_mixer_selem_id_set_name(id, control)
        guard let element = snd_mixer_find_selem(mixer, id) else { throw fail("no such control") }
        guard snd_mixer_selem_has_playback_volume(element) != 0 else { throw fail("not a playback volume") }
        var low = 0
        var high = 0
        code = snd_mixer_selem_get_playback_volume_range(element, &low, &high)
        guard code >= 0 else { throw fail(PCMPlayback.message(code)) }
        let value = low + (high - low) * min(100, max(0, percent)) / 100
        code = snd_mixer_selem_set_playback_volume_all(element, value)
        guard code >= 0 else { throw fail(PCMPlayback.message(code)) }
    }
}
