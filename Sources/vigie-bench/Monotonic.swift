#if canImport(Glibc)
    import Glibc
#endif

/// The system's monotonic clock in nanoseconds: one time line for all the fleet's processes, so that a unit's
/// connection seen in a shard and the broker's restart seen by the coordinator compare.
enum Monotonic {
    static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    static func seconds(_ nanoseconds: Int64) -> Double { Double(nanoseconds) / 1e9 }
}
