import Testing
import VigieCore

/// `[[line]]` and `[abandoned]` as read from a file.
@Suite("Line and abandoned-object settings")
struct LineConfigurationTests {
    @Test func linesAndAbandonedAreRead() throws {
        let empty = try Configuration.parse("", file: "unit.toml")
        #expect(empty.lines.isEmpty)
        #expect(empty.abandoned == AbandonedSettings())
        #expect(!empty.abandoned.enabled)
        let configuration = try Configuration.parse(
            """
            [[line]]
            name = "crossing"
            from = [0.5, 0.4]
            to = [0.5, 1]
            direction = "left_to_right"

            [[line]]
            from = [0, 0.8]
            to = [1, 0.7]

            [abandoned]
            seconds = 90
            min_area = 0.002
            max_area = 0.03
            """, file: "unit.toml")
        #expect(
            configuration.lines == [
                LineRule(
                    name: "crossing", from: NormalizedPoint(x: 0.5, y: 0.4), to: NormalizedPoint(x: 0.5, y: 1),
                    direction: .leftToRight),
                LineRule(name: "line 2", from: NormalizedPoint(x: 0, y: 0.8), to: NormalizedPoint(x: 1, y: 0.7)),
            ])
        var expected = AbandonedSettings()
        expected.enabled = true
        expected.seconds = 90
        expected.minimumArea = 0.002
        expected.maximumArea = 0.03
        #expect(configuration.abandoned == expected)
        #expect(try Configuration.parse("[abandoned]\nenabled = false\n", file: "unit.toml").abandoned.enabled == false)
    }

    @Test(
        "errors name file, line and key",
        arguments: [
            ("[[line]]\nfrom = [0.1, 0.5]\nto = [0.9, 0.5]\ndirection = \"sideways\"\n", 4, "line[1].direction"),
            ("[[line]]\nfrom = [0.1, 0.5]\nto = [0.9, 0.5]\ndirection = \"left_to_right\"\n", 4, "line[1].direction"),
            ("[[line]]\nfrom = [0.5, 0.1]\nto = [0.52, 0.9]\ndirection = \"bottom_to_top\"\n", 4, "line[1].direction"),
            ("[[line]]\nfrom = [0.1, 0.5]\n", 1, "line[1].to"),
            ("[[line]]\nfrom = [0.1, 1.5]\nto = [0.9, 0.5]\n", 2, "line[1].from"),
            ("[[line]]\nfrom = [0.1, 0.5]\nto = \"here\"\n", 3, "line[1].to"),
            ("[[line]]\nfrom = [0.5, 0.5]\nto = [0.5, 0.5]\n", 3, "line[1].to"),
            ("[[line]]\nfrom = [0.1, 0.5]\nto = [0.9, 0.5]\nwidth = 3\n", 4, "line[1].width"),
            (
                "[[line]]\nname = \"a\"\nfrom = [0.1, 0.5]\nto = [0.9, 0.5]\n[[line]]\nname = \"a\"\nfrom = [0.1, 0.6]\n"
                    + "to = [0.9, 0.6]\n", 6, "line[2].name"
            ),
            ("[abandoned]\nseconds = 1\n", 2, "abandoned.seconds"),
            ("[abandoned]\nmin_area = 0.1\nmax_area = 0.05\n", 3, "abandoned.max_area"),
            ("[abandoned]\nenabled = 1\n", 2, "abandoned.enabled"),
            ("[abandoned]\nminutes = 1\n", 2, "abandoned.minutes"),
        ])
    func errors(text: String, line: Int, key: String) {
        #expect(Fixtures.issues(parsing: text) == ["unit.toml:\(line):\(key)"], "\(text)")
    }
}
