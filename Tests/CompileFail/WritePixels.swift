// No public API writes pixels into a MaskedFrame.
// expected-error: 'frame' is inaccessible due to 'internal' protection level
import VigieCore

func unmask(_ raster: MaskRaster, _ frame: Frame) {
    raster.apply(to: frame) { masked in masked.frame.bytes[0] = 255 }
}
