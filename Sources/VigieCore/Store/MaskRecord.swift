/// The privacy masks as last applied, kept in the state folder (`masks.json`) so that a change made while the
/// unit was stopped (a file edited, then a restart or an upgrade) is audited like one made by a reload.
public enum MaskRecord {
    public static let fileName = "masks.json"

    /// `[{"name": …, "points": [[x, y], …]}, …]`, with every coordinate written so it reads back exactly.
    public static func encode(_ mask: PrivacyMask) -> String {
        var json = JSONWriter()
        json.beginArray()
        for polygon in mask.polygons {
            json.beginObject()
            json.string("name", polygon.name)
            json.raw("points", "[" + polygon.points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]")
            json.endObject()
        }
        json.endArray()
        return json.text
    }

    /// The masks `text` records, or `nil` if it is not such a record (then nothing can be compared).
    public static func decode(_ text: String) -> PrivacyMask? {
        guard let value = try? JSON.parse(text), let entries = value.arrayValue else { return nil }
        var polygons: [MaskPolygon] = []
        for entry in entries {
            guard let name = entry["name"]?.stringValue, let points = entry["points"]?.arrayValue else { return nil }
            var corners: [NormalizedPoint] = []
            for point in points {
                guard let pair = point.arrayValue, pair.count == 2, let x = pair[0].numberValue,
                    let y = pair[1].numberValue
                else { return nil }
                corners.append(NormalizedPoint(x: x, y: y))
            }
            guard let polygon = try? MaskPolygon(name: name, points: corners) else { return nil }
            polygons.append(polygon)
        }
        return PrivacyMask(polygons: polygons)
    }
}
