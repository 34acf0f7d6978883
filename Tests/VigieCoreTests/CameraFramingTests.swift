import Testing
import VigieCore

@Suite("Commissioned framing and camera identity")
struct CameraFramingTests {
    @Test(
        "a delivered size against 1280x720",
        arguments: [
            (1280, 720, CameraFraming.Verdict.exact),
            (1920, 1080, .rescaled),
            (640, 360, .rescaled),
            (3840, 2160, .rescaled),
            (640, 480, .mismatch),  // a 4:3 mode when 16:9 was asked
            (1280, 960, .mismatch),
            (1920, 1088, .mismatch),  // 0.7 % taller: the masks would drift by eight rows
            (720, 1280, .mismatch),  // turned on its side
            (0, 0, .mismatch),
        ])
    func verdict(width: Int, height: Int, expected: CameraFraming.Verdict) {
        #expect(CameraFraming(width: 1280, height: 720).check(width: width, height: height) == expected)
    }

    @Test func identityRoundTrips() {
        let identities = [
            CameraIdentity(driver: "uvcvideo", card: "HD Pro Webcam C920", bus: "usb-0000:01:00.0-1.2", serial: "A1B2"),
            CameraIdentity(driver: "vivid", card: "vivid", bus: "platform:vivid-000"),
            CameraIdentity(driver: "v4l2 loopback", card: "a=b\nc", bus: "platform:v4l2loopback-020"),
        ]
        for identity in identities {
            let decoded = CameraIdentity(encoded: identity.encoded)
            #expect(decoded?.driver == identity.driver && decoded?.bus == identity.bus)
            #expect(decoded?.serial == identity.serial)
            #expect(decoded?.card == identity.card.replacingNewlines())
        }
    }

    @Test(
        "damaged identity records are no record",
        arguments: ["", "driver=x", "driver=x\ncard=y", "garbage", "driver=x\ncard=y\nbus=z\nextra=1"])
    func damagedRecord(text: String) {
        #expect(CameraIdentity(encoded: text) == nil)
    }

    @Test func mismatchIsReportedOnceAndRetried() {
        var link = CameraLink(backoff: Backoff(initial: 0.5, maximum: 4, jitter: 0.1))
        #expect(
            CameraLinkTests.kinds(link.refused(.mismatch, reason: "4:3")) == [
                "camera_mismatch", "reopen",
            ])
        #expect(link.state == .refused(.mismatch))
        // Still the wrong camera: retried, not reported again.
        #expect(CameraLinkTests.kinds(link.refused(.mismatch, reason: "4:3")) == ["reopen"])
        // Unplugged meanwhile: that is a loss, and said.
        #expect(CameraLinkTests.kinds(link.failed(reason: "ENODEV")) == ["camera_lost", "reopen"])
        #expect(
            CameraLinkTests.kinds(link.refused(.mismatch, reason: "4:3")) == [
                "camera_mismatch", "reopen",
            ])
        // The right camera at last: restored, and the detector re-learns.
        #expect(CameraLinkTests.kinds(link.frameArrived()) == ["camera_restored", "relearn"])
        #expect(link.state == .streaming)
    }

    @Test func refusalBacksOff() {
        var link = CameraLink(backoff: Backoff(initial: 0.5, maximum: 4, jitter: 0.1))
        var delays: [Double] = []
        for _ in 0..<6 {
            for case .reopen(let delay) in link.refused(.mismatch, reason: "") { delays.append(delay) }
        }
        #expect(delays.count == 6)
        #expect(delays.first! < 0.6 && delays.last! > 3.5 && delays.last! <= 4.4)
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(unicodeScalars.map { $0 == "\n" ? " " : Character($0) })
    }
}
