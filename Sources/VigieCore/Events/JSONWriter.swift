/// Builds compact JSON text without Foundation: objects, arrays, strings, numbers, booleans.
///
/// Keys are written in the order given, so output is stable for tests and diffs.
public struct JSONWriter: Sendable {
    public private(set) var text = ""
    private var needsComma = [false]

    public init() {}

    /// Starts an object (as a value, or under `key` inside an object).
    public mutating func beginObject(_ key: String? = nil) {
        prefix(key)
        text += "{"
        needsComma.append(false)
    }

    public mutating func endObject() {
        needsComma.removeLast()
        text += "}"
    }

    public mutating func beginArray(_ key: String? = nil) {
        prefix(key)
        text += "["
        needsComma.append(false)
    }

    public mutating func endArray() {
        needsComma.removeLast()
        text += "]"
    }

    public mutating func string(_ key: String?, _ value: String) {
        prefix(key)
        Self.appendQuoted(value, to: &text)
    }

    public mutating func integer(_ key: String?, _ value: Int) {
        prefix(key)
        text += String(value)
    }

    /// Writes a finite number rounded to `decimals` places; NaN and infinities become `null`.
    public mutating func number(_ key: String?, _ value: Double, decimals: Int = 4) {
        prefix(key)
        guard value.isFinite else {
            text += "null"
            return
        }
        text += Self.format(value, decimals: decimals)
    }

    public mutating func bool(_ key: String?, _ value: Bool) {
        prefix(key)
        text += value ? "true" : "false"
    }

    /// JSON text written as it is: only for JSON this code wrote itself (an event's stored payload), never for
    /// outside input.
    public mutating func raw(_ key: String?, _ json: String) {
        prefix(key)
        text += json
    }

    /// A rectangle as `{"x":…,"y":…,"w":…,"h":…}`.
    public mutating func rect(_ key: String?, _ rect: NormalizedRect) {
        beginObject(key)
        number("x", rect.x)
        number("y", rect.y)
        number("w", rect.width)
        number("h", rect.height)
        endObject()
    }

    private mutating func prefix(_ key: String?) {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
        if let key {
            Self.appendQuoted(key, to: &text)
            text += ":"
        }
    }

    /// Fixed-point text with trailing zeros removed: 0.25 → "0.25", 2.0 → "2".
    static func format(_ value: Double, decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return String(value) }
        let whole = Int(scaled) / Int(scale)
        var fraction = Int(scaled) % Int(scale)
        var digits = decimals
        while digits > 0 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard digits > 0 else { return sign + String(whole) }
        let fractionText = String(fraction)
        return sign + String(whole) + "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
    }

    /// `value` as a JSON string literal, quotes included.
    public static func quoted(_ value: String) -> String {
        var text = ""
        appendQuoted(value, to: &text)
        return text
    }

    static func appendQuoted(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}

extension MotionEvent {
    /// One JSON line as written by `vigie analyze --events`; `ongoing` when the recording ended first (the
    /// tracker ended it at the last frame read).
    public func jsonLine(ongoing: Bool) -> String {
        var json = JSONWriter()
        json.beginObject()
        json.string("kind", "motion")
        json.string("zone", zone)
        json.integer("start_frame", startFrame)
        json.integer("end_frame", endFrame)
        json.number("start_time", startTime, decimals: 3)
        json.number("end_time", endTime, decimals: 3)
        json.number("peak_area", peakArea, decimals: 5)
        json.integer("frames_with_motion", framesWithMotion)
        json.beginArray("boxes")
        for box in boxes { json.rect(nil, box) }
        json.endArray()
        json.bool("ongoing", ongoing)
        json.endObject()
        return json.text
    }
}
