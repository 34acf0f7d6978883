/// The configuration `vigied --demo` runs: a synthetic street, two privacy masks over windows, one zone.
/// Built into the binary so the demo works from any folder with nothing installed; its board, `demo` (the
/// synthetic camera, a simulated button, the speaker to a file), is built into `VigieCore` for the same reason.
public enum DemoConfiguration {
    public static let text = """
        # Vigie demo: no camera, no broker, no sound card needed.
        [device]
        id = "demo-pole-01"
        role = "pole"
        # The camera (synthetic), the button (simulated) and the speaker (a file): see board/demo.toml.
        board = "demo"

        [motion]
        sensitivity = 0.5
        min_area = 0.002
        min_frames = 2
        end_frames = 10

        # Windows of the flats opposite: never seen, never sent.
        [[mask]]
        name = "windows-left"
        points = [[0.05, 0.05], [0.35, 0.05], [0.35, 0.45], [0.05, 0.45]]

        [[mask]]
        name = "balcony-right"
        points = [[0.70, 0.10], [0.95, 0.08], [0.95, 0.40], [0.72, 0.42]]

        [[zone]]
        name = "pavement"
        points = [[0.0, 0.55], [1.0, 0.55], [1.0, 1.0], [0.0, 1.0]]

        [snapshot]
        quality = 80
        """
}
