// swift-tools-version: 6.2
import PackageDescription

// Warnings are errors in every target of ours; dependencies are left alone.
let strict: [SwiftSetting] = [.treatAllWarnings(as: .error)]

let package = Package(
    name: "vigie",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigied", targets: ["vigied"]),
        .executable(name: "vigie", targets: ["vigie"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        // Pure Swift: frames, Y4M, privacy masks, motion, events, configuration. No C library.
        .target(name: "VigieCore", swiftSettings: strict),

        // One thin system-library target per C library.
        .systemLibrary(
            name: "CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CV4L2", pkgConfig: "libv4l2", providers: [.apt(["libv4l-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CALSA", pkgConfig: "alsa", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CEspeakNG", pkgConfig: "espeak-ng", providers: [.apt(["libespeak-ng-dev"])]),
        // libgpiod 1.x only (Debian 12); the shim refuses 2.x, whose API is another.
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        // The C library's Linux calls Swift cannot import as they are: prctl (variadic), ntp_adjtime.
        .systemLibrary(name: "CLinux"),

        // Adapters: one C library each.
        .target(name: "VigieImage", dependencies: ["VigieCore", "CTurboJPEG"], swiftSettings: strict),
        .target(name: "VigieCapture", dependencies: ["VigieCore", "CV4L2"], swiftSettings: strict),
        .target(name: "VigieStore", dependencies: ["VigieCore", "CSQLite"], swiftSettings: strict),
        // The speaker: ALSA playback and espeak-ng speech (two C libraries, one output device).
        .target(name: "VigieAudio", dependencies: ["VigieCore", "CALSA", "CEspeakNG"], swiftSettings: strict),
        // The call point's button, LEDs and tamper switch through the GPIO character device.
        .target(name: "VigieGPIO", dependencies: ["VigieCore", "CGPIOD"], swiftSettings: strict),
        .target(
            name: "VigieUplink",
            dependencies: ["VigieCore", "CMosquitto", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),

        // Composition.
        .target(
            name: "VigieDaemon",
            dependencies: [
                "VigieCore", "VigieImage", "VigieCapture", "VigieStore", "VigieUplink", "VigieAudio", "VigieGPIO",
                "CLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vigied",
            dependencies: ["VigieDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vigie",
            dependencies: [
                "VigieCore", "VigieImage", "VigieCapture", "VigieAudio", "VigieGPIO", "VigieStore", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        // Benchmarks, run in release by tools/bench; not a test.
        .executableTarget(
            name: "vigie-bench",
            dependencies: [
                "VigieCore", "VigieCapture", "VigieStore", "VigieUplink",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        .testTarget(name: "VigieCoreTests", dependencies: ["VigieCore"], swiftSettings: strict),
        .testTarget(name: "VigieImageTests", dependencies: ["VigieCore", "VigieImage"], swiftSettings: strict),
        // ALSA's file and null plugins through a private configuration: no sound card needed. CALSA: in the kernel
        // rig, the test records snd-aloop's other side to check what was played (Vigie itself never captures).
        .testTarget(
            name: "VigieAudioTests", dependencies: ["VigieCore", "VigieAudio", "CALSA"], swiftSettings: strict),
        // Integration: a real mosquitto broker on 127.0.0.1, vigied as a separate process, small filesystems the
        // storage fault tests mount; CSQLite to break an outbox behind the code's back.
        .testTarget(
            name: "VigieUplinkTests",
            dependencies: [
                "VigieCore", "VigieUplink", "VigieStore", "VigieImage", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // VividRigTests run for real in the kernel rig (tools/vmtest), where the vivid driver is loaded.
        .testTarget(name: "VigieCaptureTests", dependencies: ["VigieCore", "VigieCapture"], swiftSettings: strict),
        // GPIORigTests run for real in the kernel rig, against gpio-sim (lines pulled through its sysfs files).
        .testTarget(name: "VigieGPIOTests", dependencies: ["VigieCore", "VigieGPIO"], swiftSettings: strict),
        // CSQLite: tests break an outbox behind the code's back (a trigger that refuses removals).
        .testTarget(
            name: "VigieStoreTests", dependencies: ["VigieCore", "VigieStore", "CSQLite"], swiftSettings: strict),
        .testTarget(
            name: "VigieDaemonTests",
            dependencies: [
                "VigieCore", "VigieImage", "VigieCapture", "VigieDaemon",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
    ]
)
