/// A committed offset of one partition. A value type; thread-safe.
public struct CommittedOffset: Sendable, Equatable {
    public var offset: Int64
    public var leaderEpoch: Int32
    public var metadata: String
    /// When the commit was made (ms since the epoch).
    public var commitTimestamp: Int64
    /// An explicit expiry time (OffsetCommit v1–v4 with a retention time), or nil.
    public var expireTimestamp: Int64?

    public init(
        offset: Int64, leaderEpoch: Int32 = -1, metadata: String = "", commitTimestamp: Int64,
        expireTimestamp: Int64? = nil
    ) {
        self.offset = offset
        self.leaderEpoch = leaderEpoch
        self.metadata = metadata
        self.commitTimestamp = commitTimestamp
        self.expireTimestamp = expireTimestamp
    }
}
