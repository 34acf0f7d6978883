import Foundation
import Testing
import VigieCore

/// `vigie analyze` with rules, through the real binary on a generated recording: the demo street, a walker from
/// 2 s crossing the pavement where an intrusion zone lies.
@Suite("vigie analyze: rules and per-frame boxes", .serialized)
struct AnalyzeRulesCLITests {
    static let config = """
        [[zone]]
        name = "pavement"
        kind = "intrusion"
        points = [[0, 0.7], [1, 0.7], [1, 1], [0, 1]]
        min_area = 0.005
        dwell = 2
        schedule = ["mon-fri 18:00-07:30"]
        """

    @Test(
        "--events gets the intrusion from start to end, --boxes one line per frame in pixels, --start drives the schedule"
    )
    func analyze() throws {
        let folder = NSTemporaryDirectory() + "vigie-analyze-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let clip = folder + "/street.y4m"
        try Self.config.write(toFile: folder + "/unit.toml", atomically: true, encoding: .utf8)
        let generated = try ControlTests.vigie(
            "generate", "--size", "320x240", "--fps", "10", "--frames", "80", "-o", clip)
        #expect(generated.status == 0, "\(generated.errors)")

        // Tuesday evening: armed.
        let evening = try ControlTests.vigie(
            "analyze", clip, "--config", folder + "/unit.toml", "--events", folder + "/events.jsonl", "--boxes",
            folder + "/boxes.jsonl", "--start", "2026-12-01T22:00", "--summary-json")
        #expect(evening.status == 0, "\(evening.errors)")
        let events = try String(contentsOfFile: folder + "/events.jsonl", encoding: .utf8).split(separator: "\n")
        let intrusions = events.filter { $0.contains("\"kind\":\"intrusion\"") }
        #expect(intrusions.count == 1, "\(events)")
        if let line = intrusions.first, let json = try? JSON.parse(String(line)) {
            #expect(json["zone"]?.stringValue == "pavement")
            let start = json["start_frame"]?.intValue ?? -1
            let alert = json["alert_frame"]?.intValue ?? -1
            #expect((20...30).contains(start) && alert - start >= 20 && alert - start <= 21, "\(line)")
            // The walker left the pavement less than the re-arm time (10 s) before the last frame: still going.
            #expect(json["end_frame"]?.intValue == 79 && json["ongoing"]?.boolValue == true, "\(line)")
        }
        // One line per situation, in order of its end: the walker's motion event ends first.
        let ends = events.compactMap { try? JSON.parse(String($0)) }.compactMap { $0["end_frame"]?.intValue }
        #expect(ends.count == events.count && ends == ends.sorted() && events.count == 2, "\(events)")
        let boxes = try String(contentsOfFile: folder + "/boxes.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(boxes.count == 80)
        for (index, line) in boxes.enumerated() {
            guard let json = try? JSON.parse(String(line)) else {
                Issue.record("not JSON: \(line)")
                continue
            }
            #expect(json["frame"]?.intValue == index)
            for box in json["boxes"]?.arrayValue ?? [] {
                let p = (box.arrayValue ?? []).compactMap(\.intValue)
                #expect(
                    p.count == 4 && 0 <= p[0] && p[0] < p[2] && p[2] <= 320 && 0 <= p[1] && p[1] < p[3] && p[3] <= 240)
            }
        }
        // The walker is in the image from frame 20: some frames have boxes, the first ones none.
        #expect(boxes.prefix(20).allSatisfy { $0.hasSuffix("\"boxes\":[]}") })
        #expect(boxes.dropFirst(25).contains { !$0.hasSuffix("\"boxes\":[]}") })

        // Tuesday noon: outside the schedule, no alert.
        let noon = try ControlTests.vigie(
            "analyze", clip, "--config", folder + "/unit.toml", "--events", folder + "/noon.jsonl", "--start",
            "2026-12-01T12:00", "--summary-json")
        #expect(noon.status == 0 && noon.output.contains("\"alerts\":0"), "\(noon.output)")

        let bad = try ControlTests.vigie("analyze", clip, "--start", "tuesday")
        #expect(bad.status != 0 && bad.errors.contains("--start"), "\(bad.errors)")
    }
}
