import Testing
import VigieCore

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func writesNestedValues() {
        var json = JSONWriter()
        json.beginObject()
        json.string("name", "fenêtre \"12\"\n\u{1}")
        json.integer("n", -3)
        json.number("x", 0.25)
        json.number("y", 2)
        json.number("z", -0.00004)
        json.number("nan", .nan)
        json.bool("ok", true)
        json.beginArray("list")
        json.integer(nil, 1)
        json.rect(nil, NormalizedRect(x: 0.1, y: 0.2, width: 0.3, height: 0.4))
        json.endArray()
        json.endObject()
        #expect(
            json.text
                == #"{"name":"fenêtre \"12\"\n\u0001","n":-3,"x":0.25,"y":2,"z":0,"nan":null,"ok":true,"list":[1,{"x":0.1,"y":0.2,"w":0.3,"h":0.4}]}"#
        )
    }

    @Test func eventLine() {
        let event = MotionEvent(
            zone: "gate", startFrame: 30, endFrame: 60, startTime: 1.2, endTime: 2.4, peakArea: 0.0123456,
            boxes: [NormalizedRect(x: 0.5, y: 0.25, width: 0.125, height: 0.5)], framesWithMotion: 31)
        #expect(
            event.jsonLine(ongoing: false)
                == #"{"kind":"motion","zone":"gate","start_frame":30,"end_frame":60,"start_time":1.2,"end_time":2.4,"peak_area":0.01235,"frames_with_motion":31,"boxes":[{"x":0.5,"y":0.25,"w":0.125,"h":0.5}],"ongoing":false}"#
        )
    }
}
