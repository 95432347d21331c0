/// Per-partition log configuration, with Kafka's topic-level property names and defaults.
///
/// Thread-safety: a `Sendable` value type.
public struct LogConfig: Sendable, Equatable {
    /// Where a batch's timestamp comes from (`message.timestamp.type`).
    public enum TimestampType: String, Sendable {
        /// `CreateTime`: the producer's timestamps are stored unchanged.
        case createTime = "CreateTime"
        /// `LogAppendTime`: the broker stamps each batch with its clock at append.
        case logAppendTime = "LogAppendTime"
    }

    /// `segment.bytes`: roll the active segment before it would grow past this size.
    public var segmentBytes: Int
    /// `segment.ms`: roll the active segment when it spans more than this (ms): from its first batch's max
    /// timestamp to the incoming batches' (Kafka's rule), or on the clock since creation without timestamps.
    public var segmentMs: Int64
    /// `index.interval.bytes`: bytes appended between two offset index entries.
    public var indexIntervalBytes: Int
    /// `segment.index.bytes`: size each index file is preallocated to; a full index rolls the segment.
    public var segmentIndexBytes: Int
    /// `max.message.bytes`: the largest record batch accepted (bytes, header included).
    public var maxMessageBytes: Int
    /// `retention.ms`: delete segments whose newest timestamp is older than this (ms); -1 keeps everything.
    public var retentionMs: Int64
    /// `retention.bytes`: delete the oldest segments while the log is larger than this; -1 means no limit.
    public var retentionBytes: Int64
    /// `flush.messages`: fsync after this many messages (records) have been appended since the last fsync.
    public var flushMessages: Int64
    /// `flush.ms`: fsync when the oldest unflushed append is older than this (ms), checked by `flushIfDue`.
    public var flushMs: Int64
    /// `message.timestamp.type`: `CreateTime` or `LogAppendTime`.
    public var messageTimestampType: TimestampType
    /// `producer.id.expiration.ms` (a broker setting in Kafka): an idempotent producer whose last batch is this
    /// old (ms) is forgotten by the partition, at maintenance and when the log is opened.
    public var producerIdExpirationMs: Int64
    /// `cleanup.policy` includes `compact`: the log cleaner keeps the latest record of every key (see `LogCleaner`).
    public var compact: Bool
    /// `delete.retention.ms`: how long a tombstone (and later a transaction marker) survives after the cleaner
    /// first saw it (its delete horizon, KIP-534).
    public var deleteRetentionMs: Int64
    /// `min.compaction.lag.ms`: segments holding a record newer than this (ms) are not cleaned yet.
    public var minCompactionLagMs: Int64
    /// `max.compaction.lag.ms`: a log whose oldest uncleaned segment began longer ago than this (ms) is cleaned
    /// whatever its dirty ratio.
    public var maxCompactionLagMs: Int64
    /// `min.cleanable.dirty.ratio`: the share of the log's bytes that must be uncleaned before it is cleaned.
    public var minCleanableDirtyRatio: Double

    public init(
        segmentBytes: Int = 1_073_741_824,
        segmentMs: Int64 = 604_800_000,
        indexIntervalBytes: Int = 4096,
        segmentIndexBytes: Int = 10_485_760,
        maxMessageBytes: Int = 1_048_588,
        retentionMs: Int64 = 604_800_000,
        retentionBytes: Int64 = -1,
        flushMessages: Int64 = Int64.max,
        flushMs: Int64 = Int64.max,
        messageTimestampType: TimestampType = .createTime,
        producerIdExpirationMs: Int64 = 86_400_000,
        compact: Bool = false,
        deleteRetentionMs: Int64 = 86_400_000,
        minCompactionLagMs: Int64 = 0,
        maxCompactionLagMs: Int64 = Int64.max,
        minCleanableDirtyRatio: Double = 0.5
    ) {
        self.segmentBytes = segmentBytes
        self.segmentMs = segmentMs
        self.indexIntervalBytes = indexIntervalBytes
        self.segmentIndexBytes = segmentIndexBytes
        self.maxMessageBytes = maxMessageBytes
        self.retentionMs = retentionMs
        self.retentionBytes = retentionBytes
        self.flushMessages = flushMessages
        self.flushMs = flushMs
        self.messageTimestampType = messageTimestampType
        self.producerIdExpirationMs = producerIdExpirationMs
        self.compact = compact
        self.deleteRetentionMs = deleteRetentionMs
        self.minCompactionLagMs = minCompactionLagMs
        self.maxCompactionLagMs = maxCompactionLagMs
        self.minCleanableDirtyRatio = minCleanableDirtyRatio
    }
}
