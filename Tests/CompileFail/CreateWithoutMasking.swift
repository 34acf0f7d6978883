// A MaskedFrame cannot be made from a frame the mask has not seen.
// expected-error: 'MaskedFrame' initializer is inaccessible due to 'internal' protection level
import VigieCore

func unmaskedSnapshot(_ frame: Frame) {
    let masked = MaskedFrame(frame: frame)
    _ = masked.geometry
}
