// The control: the legal use compiles (so a failure above is the guarantee, not a broken harness).
// expected-error: none
import VigieCore

func detect(_ raster: MaskRaster, _ detector: MotionDetector, _ frame: Frame) -> Int {
    var regions = 0
    raster.apply(to: frame) { masked in
        regions = detector.detect(masked)
        if masked.withUnsafeBytes({ $0.isEmpty }) { regions = 0 }
    }
    return regions
}
