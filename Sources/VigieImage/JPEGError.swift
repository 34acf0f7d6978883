/// Why a JPEG could not be made or read.
public enum JPEGError: Error, Sendable, Equatable, CustomStringConvertible {
    /// libjpeg-turbo could not create a handle (out of memory).
    case cannotInitialise
    case encodeFailed(String)
    case decodeFailed(String)
    case invalidQuality(Int)

    public var description: String {
        switch self {
        case .cannotInitialise: "JPEG: cannot initialise libturbojpeg"
        case .encodeFailed(let reason): "JPEG encoding failed: \(reason)"
        case .decodeFailed(let reason): "JPEG decoding failed: \(reason)"
        case .invalidQuality(let quality): "JPEG quality \(quality) is out of range (1…100)"
        }
    }
}
