// The control: the legal use compiles (so a failure above is the guarantee, not a broken harness).
// expected-error: none
import VigieCore

func detect(_ raster: MaskRaster, _ detector: MotionDetector, _ frame: Frame) -> Int {
    raster.apply(to: frame) { masked in
        let regions = detector.detect(masked)
        return masked.withUnsafeBytes { $0.count } > 0 ? regions : 0
    }
}
