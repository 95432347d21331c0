/// A record found by a timestamp lookup: its timestamp, its offset and the leader epoch of its batch (nil when the
/// batch carries none). A value type; thread-safe.
public struct TimestampAndOffset: Sendable, Equatable {
    public var timestamp: Int64
    public var offset: Int64
    public var leaderEpoch: Int32?

    public init(timestamp: Int64, offset: Int64, leaderEpoch: Int32? = nil) {
        self.timestamp = timestamp
        self.offset = offset
        self.leaderEpoch = leaderEpoch
    }
}

extension RecordBatchHeader {
    /// The batch's partition leader epoch when it carries one (>= 0).
    var knownLeaderEpoch: Int32? { partitionLeaderEpoch >= 0 ? partitionLeaderEpoch : nil }
}
