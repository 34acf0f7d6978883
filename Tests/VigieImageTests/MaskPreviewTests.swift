import Foundation
import Testing
import VigieCore
import VigieImage

/// `vigie mask preview` as a technician runs it: the built binary on a generated clip, its JPEG decoded.
@Suite("vigie mask preview")
struct MaskPreviewTests {
    static func vigie(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let process = Process()
        process.executableURL = executable.deletingLastPathComponent().appendingPathComponent("vigie")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test("the picture shows the masks blank with their outline, and each zone in its colour, named")
    func picture() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vigie-preview-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let clip = folder.appendingPathComponent("street.y4m").path
        let picture = folder.appendingPathComponent("check.jpg").path
        let configuration = folder.appendingPathComponent("vigie.toml")
        try """
        [[mask]]
        name = "windows"
        points = [[0.05, 0.05], [0.45, 0.05], [0.45, 0.35], [0.05, 0.35]]

        [[zone]]
        name = "pavement"
        kind = "density"
        points = [[0.1, 0.6], [0.9, 0.6], [0.9, 0.95], [0.1, 0.95]]

        [[zone]]
        name = "gate"
        kind = "intrusion"
        points = [[0.6, 0.1], [0.9, 0.1], [0.9, 0.4], [0.6, 0.4]]

        [[line]]
        name = "crossing"
        from = [0.55, 0.1]
        to = [0.55, 0.5]
        direction = "left_to_right"
        """.write(to: configuration, atomically: true, encoding: .utf8)
        let generated = try Self.vigie(["generate", "--size", "1280x720", "--frames", "3", "--output", clip])
        #expect(generated.status == 0, "\(generated.output)")
        let run = try Self.vigie([
            "mask", "preview", "--config", configuration.path, "--input", clip, "--frame", "2", "--output", picture,
        ])
        #expect(run.status == 0, "\(run.output)")
        #expect(
            run.output.contains("1 masks, 2 zones, 1 lines") && run.output.contains("magenta: density zone 'pavement'"))
        #expect(run.output.contains("red: intrusion zone 'gate'") && run.output.contains("cyan: line 'crossing'"))

        let image = try JPEGDecoder().decode(Array(try Data(contentsOf: URL(fileURLWithPath: picture))))
        #expect(image.width == 1280 && image.height == 720)
        func colour(_ x: Double, _ y: Double) -> (luma: Int, cb: Int, cr: Int) {
            let px = Int(x * 1280)
            let py = Int(y * 720)
            let cx = px / image.chromaStepX
            let cy = py / image.chromaStepY
            return (
                Int(image.luma(x: px, y: py)), Int(image.planes[1][cy * image.strides[1] + cx]),
                Int(image.planes[2][cy * image.strides[2] + cx])
            )
        }
        func near(_ seen: (luma: Int, cb: Int, cr: Int), _ expected: OverlayColour, _ tolerance: Int) -> Bool {
            abs(seen.luma - Int(expected.luma)) <= tolerance && abs(seen.cb - Int(expected.cb)) <= tolerance
                && abs(seen.cr - Int(expected.cr)) <= tolerance
        }
        let magenta = OverlayPalette.zone(.density)
        // The middle of each of the zone's edges, and more along the bottom one.
        for (x, y) in [(0.5, 0.6), (0.9, 0.775), (0.3, 0.95), (0.5, 0.95), (0.7, 0.95), (0.1, 0.775)] {
            let seen = colour(x, y)
            #expect(near(seen, magenta, 40), "zone edge at (\(x), \(y)): \(seen)")
        }
        // The intrusion zone in red, the line in cyan (away from its arrow, in the middle).
        for (x, y) in [(0.9, 0.25), (0.75, 0.4), (0.6, 0.3)] {
            let seen = colour(x, y)
            #expect(near(seen, OverlayPalette.zone(.intrusion), 40), "intrusion zone edge at (\(x), \(y)): \(seen)")
        }
        for y in [0.15, 0.45] {
            let seen = colour(0.55, y)
            #expect(near(seen, OverlayPalette.line, 40), "line at y \(y): \(seen)")
        }
        // Inside the zone and far from its edges and name: the street, not magenta.
        #expect(!near(colour(0.5, 0.8), magenta, 60))
        // Inside the mask: black, no colour; on its edge: the white outline.
        for (x, y) in [(0.25, 0.2), (0.1, 0.1), (0.4, 0.3)] {
            #expect(near(colour(x, y), OverlayColour(luma: 0, cb: 128, cr: 128), 8), "masked at (\(x), \(y))")
        }
        #expect(near(colour(0.25, 0.35), OverlayPalette.mask, 40), "the mask's outline")
        // The name, in magenta on a dark ground, just inside the zone's top left corner.
        var namePixels = 0
        for y in 434..<470 {
            for x in 130..<260 where near(colour(Double(x) / 1280, Double(y) / 720), magenta, 50) { namePixels += 1 }
        }
        #expect(namePixels > 50, "the zone's name is drawn in magenta beside it")
    }
}
