// A MaskedFrame cannot be moved out of the call that lent it, even explicitly.
// expected-error: 'masked' is borrowed and cannot be consumed
import VigieCore

func escape(_ raster: MaskRaster, _ frame: Frame) {
    var moved: MaskedFrame? = nil
    raster.apply(to: frame) { masked in moved = consume masked }
    _ = moved?.geometry
}
