/// How long and how much the local event store keeps (`[storage]`).
public struct StorageSettings: Sendable, Hashable {
    /// The legal maximum (France: one month for the images of a video-protection system), also the default.
    public static let maximumRetentionDays = 30

    /// Events, snapshots and activity older than this many days are purged (1 to `maximumRetentionDays`).
    public var retentionDays = maximumRetentionDays
    /// The event store's size cap in MiB: beyond it the oldest go first, whatever their age.
    public var maximumMB = 1024

    public init() {}

    public var retentionMillis: Int64 { Int64(retentionDays) * 86_400_000 }
    public var maximumBytes: Int64 { Int64(maximumMB) << 20 }
}
