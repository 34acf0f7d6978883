/// Signed 16-bit PCM sound in memory: what a clip holds, what speech synthesis produces, what the speaker plays.
///
/// Samples are interleaved (left, right, left… for stereo), at `sampleRate` frames per second.
public struct PCMAudio: Sendable, Hashable {
    /// Frames per second, 8000 to 192000.
    public var sampleRate: Int
    /// 1 (mono) or 2 (stereo).
    public var channels: Int
    /// Interleaved samples; `samples.count` is a multiple of `channels`.
    public var samples: [Int16]

    /// Sound of `samples` (interleaved) at `sampleRate` with `channels`.
    public init(sampleRate: Int, channels: Int, samples: [Int16]) {
        self.sampleRate = sampleRate
        self.channels = channels
        self.samples = samples
    }

    /// Frames (one sample per channel each).
    public var frames: Int { channels > 0 ? samples.count / channels : 0 }

    /// Length in seconds.
    public var duration: Double { sampleRate > 0 ? Double(frames) / Double(sampleRate) : 0 }

    /// Root mean square level, 0 (silence) to 1 (full scale square wave).
    public var rmsLevel: Double {
        guard !samples.isEmpty else { return 0 }
        var sum = 0.0
        for sample in samples {
            let value = Double(sample) / 32768
            sum += value * value
        }
        return (sum / Double(samples.count)).squareRoot()
    }

    /// A sine tone (for `vigie speaker test` and the chime), mono, at `amplitude` of full scale (0…1).
    public static func tone(
        frequency: Double, seconds: Double, sampleRate: Int = 22050, amplitude: Double = 0.3
    ) -> PCMAudio {
        let count = max(0, Int(seconds * Double(sampleRate)))
        let fade = min(count / 2, sampleRate / 100)  // 10 ms ramps: no click at either end
        var samples = [Int16](repeating: 0, count: count)
        for index in 0..<count {
            var gain = amplitude
            if index < fade { gain *= Double(index) / Double(fade) }
            if count - 1 - index < fade { gain *= Double(count - 1 - index) / Double(fade) }
            let phase = 2 * Double.pi * frequency * Double(index) / Double(sampleRate)
            samples[index] = Int16((sine(phase) * gain * 32767).rounded())
        }
        return PCMAudio(sampleRate: sampleRate, channels: 1, samples: samples)
    }

    /// Silence of `seconds`.
    public static func silence(seconds: Double, sampleRate: Int, channels: Int) -> PCMAudio {
        PCMAudio(
            sampleRate: sampleRate, channels: channels,
            samples: [Int16](repeating: 0, count: max(0, Int(seconds * Double(sampleRate))) * channels))
    }

    /// The sine of `x` without Foundation: reduced to [-π, π], then a Taylor series good to 1e-7.
    static func sine(_ x: Double) -> Double {
        var x = x.truncatingRemainder(dividingBy: 2 * Double.pi)
        if x > Double.pi { x -= 2 * Double.pi }
        if x < -Double.pi { x += 2 * Double.pi }
        let x2 = x * x
        var term = x
        var sum = x
        for n in stride(from: 2, through: 22, by: 2) {
            term *= -x2 / Double(n * (n + 1))
            sum += term
        }
        return sum
    }
}
