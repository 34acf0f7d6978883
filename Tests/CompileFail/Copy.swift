// A MaskedFrame cannot be copied.
// expected-error: 'copy' cannot be applied to noncopyable types
import VigieCore

func duplicate(_ raster: MaskRaster, _ frame: Frame) {
    raster.apply(to: frame) { masked in
        let second = copy masked
        _ = second.geometry
    }
}
