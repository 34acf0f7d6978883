/// The `demo` board profile, built in so that the demo needs no installed file. A copy of `board/demo.toml`:
/// `BoardProfileTests` fails when the two differ.
enum DemoBoardProfile {
    static let text = """
        # The demo board: no hardware at all.
        #
        # Assumes nothing: a synthetic street scene instead of a camera, a simulated GPIO chip whose button
        # is pressed in software, and the speaker written to a file instead of a sound card. This profile is
        # also built into vigied and vigie (a test keeps the two identical), so `vigied --demo` runs with
        # nothing installed.

        [source]
        uri = "synthetic:"

        [gpio]
        chip = "simulated"
        button_line = 0
        button_active_low = true
        button_bias = "pull-up"
        led_call_line = 1
        led_fault_line = 2
        tamper_line = 3

        [audio]
        file = "demo-audio.wav"         # from the unit's file's folder (vigied --demo: the current one)

        """
}
