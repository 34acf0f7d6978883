// A MaskedFrame cannot be returned out of the call that lent it.
// expected-error: 'masked' is borrowed and cannot be consumed
import VigieCore

func escape(_ raster: MaskRaster, _ frame: Frame) {
    let escaped = raster.apply(to: frame) { masked in masked }
    _ = escaped.geometry
}
