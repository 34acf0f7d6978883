// A MaskedFrame cannot be captured by a closure that outlives the call.
// expected-error: 'masked' cannot be captured by an escaping closure since it is a borrowed parameter
import VigieCore

nonisolated(unsafe) var deferred: [() -> Void] = []

func later(_ raster: MaskRaster, _ frame: Frame) {
    raster.apply(to: frame) { (masked: borrowing MaskedFrame) -> Void in
        let work: () -> Void = { print(masked.geometry) }
        deferred.append(work)
    }
}
