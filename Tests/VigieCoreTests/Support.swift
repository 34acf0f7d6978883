import VigieCore

#if canImport(Glibc)
    import Glibc
#endif

/// Helpers shared by the core tests.
enum Fixtures {
    /// The problems a configuration file `unit.toml` holding `text` is refused for, each as `file:line:key`;
    /// `["accepted"]` when it is not refused.
    static func issues(parsing text: String) -> [String] {
        do {
            _ = try Configuration.parse(text, file: "unit.toml")
            return ["accepted"]
        } catch {
            return error.issues.map { "\($0.file):\($0.line):\($0.key)" }
        }
    }

    /// A random simple polygon: points at sorted angles around a centre (star-shaped, so never self-intersecting).
    static func randomPolygon(_ random: inout SplitMix) -> [NormalizedPoint] {
        let count = 3 + Int(random.next() % 10)
        let cx = 0.2 + unit(&random) * 0.6
        let cy = 0.2 + unit(&random) * 0.6
        var angles = (0..<count).map { _ in unit(&random) * 2 * Double.pi }
        angles.sort()
        // Spread angles so that no two coincide (which would make a zero-length edge).
        angles = angles.enumerated().map { index, _ in (Double(index) + unit(&random) * 0.8) * 2 * .pi / Double(count) }
        return angles.map { angle in
            let radius = 0.05 + unit(&random) * 0.25
            return NormalizedPoint(
                x: min(1, max(0, cx + radius * cos(angle))), y: min(1, max(0, cy + radius * sin(angle))))
        }
    }

    static func unit(_ random: inout SplitMix) -> Double { Double(random.next() >> 11) / Double(1 << 53) }

    /// Even-odd point-in-polygon, written independently of the rasteriser it checks.
    static func inside(_ x: Double, _ y: Double, _ polygon: [NormalizedPoint]) -> Bool {
        var result = false
        var j = polygon.count - 1
        for i in polygon.indices {
            let a = polygon[i]
            let b = polygon[j]
            if (a.y > y) != (b.y > y) && x < (b.x - a.x) * (y - a.y) / (b.y - a.y) + a.x { result.toggle() }
            j = i
        }
        return result
    }

    /// Fills every byte of `frame` with random values.
    static func randomize(_ frame: Frame, _ random: inout SplitMix) {
        for index in 0..<frame.bytes.count { frame.bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
    }

    /// A rectangle as a mask or zone polygon.
    static func rectangle(_ x: Double, _ y: Double, _ width: Double, _ height: Double) -> [NormalizedPoint] {
        [
            NormalizedPoint(x: x, y: y), NormalizedPoint(x: x + width, y: y),
            NormalizedPoint(x: x + width, y: y + height), NormalizedPoint(x: x, y: y + height),
        ]
    }

}

extension Fixtures {
    static func cosineForTest(_ angle: Double) -> Double { cos(angle) }
    static func sineForTest(_ angle: Double) -> Double { sin(angle) }
}
