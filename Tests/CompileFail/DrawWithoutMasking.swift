// The commissioning overlay is drawn only by MaskRaster.apply(to:outlining:overlay:_:), after the mask: no public
// API draws it on a frame on its own (and so, unclipped, where the mask will be).
// expected-error: 'draw' is inaccessible due to 'internal' protection level
import VigieCore

func drawFirst(_ overlay: CommissioningOverlay, _ raster: MaskRaster, _ frame: Frame) {
    overlay.draw(on: frame, raster: raster, masks: [])
}
