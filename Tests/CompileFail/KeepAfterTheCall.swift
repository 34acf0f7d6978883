// A MaskedFrame cannot be kept after the call that lent it: the buffer goes back to the camera.
// expected-error: implicit conversion to 'MaskedFrame?' is consuming
import VigieCore

func keep(_ raster: MaskRaster, _ frame: Frame) {
    var kept: MaskedFrame?
    raster.apply(to: frame) { masked in kept = masked }
    _ = kept
}
