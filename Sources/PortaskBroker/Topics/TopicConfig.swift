import LogEngine

/// A topic's effective configuration, typed: every Kafka 4.x topic config after `TopicConfigResolver` has applied
/// the topic's overrides, the broker's properties and the defaults. Handlers read these fields, never strings;
/// the partitions' `LogConfig` is derived from it in one place (`logConfig(producerIdExpirationMs:)`).
/// A `Sendable` value; thread-safe.
public struct TopicConfig: Sendable, Equatable {
    /// `cleanup.policy`: a set of `delete` and `compact` (empty is allowed, as in Kafka).
    public struct CleanupPolicy: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let delete = CleanupPolicy(rawValue: 1)
        public static let compact = CleanupPolicy(rawValue: 2)

        init(items: [String]) {
            self = []
            if items.contains("delete") { insert(.delete) }
            if items.contains("compact") { insert(.compact) }
        }
    }

    /// `compression.type`: how batches are stored.
    public enum CompressionType: String, Sendable, CaseIterable {
        case uncompressed, zstd, lz4, snappy, gzip
        /// Store batches as the producer compressed them.
        case producer

        /// The codec batches are stored with, or `nil` for `producer` (keep the producer's).
        public var codec: CompressionCodec? {
            switch self {
            case .uncompressed: return CompressionCodec.none
            case .gzip: return .gzip
            case .snappy: return .snappy
            case .lz4: return .lz4
            case .zstd: return .zstd
            case .producer: return nil
            }
        }
    }

    public var cleanupPolicy: CleanupPolicy = .delete
    public var compressionType: CompressionType = .producer
    public var compressionGzipLevel = -1
    public var compressionLz4Level = 9
    public var compressionZstdLevel = 3
    public var deleteRetentionMs: Int64 = 86_400_000
    public var fileDeleteDelayMs: Int64 = 60_000
    public var flushMessages = Int64.max
    public var flushMs = Int64.max
    public var followerReplicationThrottledReplicas: [String] = []
    public var indexIntervalBytes = 4096
    public var leaderReplicationThrottledReplicas: [String] = []
    public var localRetentionBytes: Int64 = -2
    public var localRetentionMs: Int64 = -2
    public var maxCompactionLagMs = Int64.max
    public var maxMessageBytes = 1_048_588
    public var messageTimestampAfterMaxMs: Int64 = 3_600_000
    public var messageTimestampBeforeMaxMs = Int64.max
    public var messageTimestampType: LogConfig.TimestampType = .createTime
    public var minCleanableDirtyRatio = 0.5
    public var minCompactionLagMs: Int64 = 0
    public var minInsyncReplicas = 1
    public var preallocate = false
    public var remoteLogCopyDisable = false
    public var remoteLogDeleteOnDisable = false
    public var remoteStorageEnable = false
    public var retentionBytes: Int64 = -1
    public var retentionMs: Int64 = 604_800_000
    public var segmentBytes = 1_073_741_824
    public var segmentIndexBytes = 10_485_760
    public var segmentJitterMs: Int64 = 0
    public var segmentMs: Int64 = 604_800_000
    public var uncleanLeaderElectionEnable = false

    /// Kafka's defaults.
    public init() {}

    /// Sets the field of the config `name` from a parsed value of its type (unknown names are ignored).
    mutating func set(_ name: String, _ value: TopicConfigDefinition.Parsed) {
        func int() -> Int64 { if case .int(let number) = value { return number } else { return 0 } }
        func bool() -> Bool { if case .boolean(let flag) = value { return flag } else { return false } }
        func list() -> [String] { if case .list(let items) = value { return items } else { return [] } }
        func string() -> String { if case .string(let text) = value { return text } else { return "" } }
        switch name {
        case "cleanup.policy": cleanupPolicy = CleanupPolicy(items: list())
        case "compression.type": compressionType = CompressionType(rawValue: string()) ?? .producer
        case "compression.gzip.level": compressionGzipLevel = Int(int())
        case "compression.lz4.level": compressionLz4Level = Int(int())
        case "compression.zstd.level": compressionZstdLevel = Int(int())
        case "delete.retention.ms": deleteRetentionMs = int()
        case "file.delete.delay.ms": fileDeleteDelayMs = int()
        case "flush.messages": flushMessages = int()
        case "flush.ms": flushMs = int()
        case "follower.replication.throttled.replicas": followerReplicationThrottledReplicas = list()
        case "index.interval.bytes": indexIntervalBytes = Int(int())
        case "leader.replication.throttled.replicas": leaderReplicationThrottledReplicas = list()
        case "local.retention.bytes": localRetentionBytes = int()
        case "local.retention.ms": localRetentionMs = int()
        case "max.compaction.lag.ms": maxCompactionLagMs = int()
        case "max.message.bytes": maxMessageBytes = Int(int())
        case "message.timestamp.after.max.ms": messageTimestampAfterMaxMs = int()
        case "message.timestamp.before.max.ms": messageTimestampBeforeMaxMs = int()
        case "message.timestamp.type": messageTimestampType = string() == "LogAppendTime" ? .logAppendTime : .createTime
        case "min.cleanable.dirty.ratio": if case .double(let ratio) = value { minCleanableDirtyRatio = ratio }
        case "min.compaction.lag.ms": minCompactionLagMs = int()
        case "min.insync.replicas": minInsyncReplicas = Int(int())
        case "preallocate": preallocate = bool()
        case "remote.log.copy.disable": remoteLogCopyDisable = bool()
        case "remote.log.delete.on.disable": remoteLogDeleteOnDisable = bool()
        case "remote.storage.enable": remoteStorageEnable = bool()
        case "retention.bytes": retentionBytes = int()
        case "retention.ms": retentionMs = int()
        case "segment.bytes": segmentBytes = Int(int())
        case "segment.index.bytes": segmentIndexBytes = Int(int())
        case "segment.jitter.ms": segmentJitterMs = int()
        case "segment.ms": segmentMs = int()
        case "unclean.leader.election.enable": uncleanLeaderElectionEnable = bool()
        default: break
        }
    }

    /// The `LogConfig` of the topic's partitions. Time and size retention apply only when the cleanup policy
    /// includes `delete`, as in Kafka (a compacted-only topic keeps its segments).
    public func logConfig(producerIdExpirationMs: Int64) -> LogConfig {
        let deletes = cleanupPolicy.contains(.delete)
        return LogConfig(
            segmentBytes: segmentBytes, segmentMs: segmentMs, indexIntervalBytes: indexIntervalBytes,
            segmentIndexBytes: segmentIndexBytes, maxMessageBytes: maxMessageBytes,
            retentionMs: deletes ? retentionMs : -1, retentionBytes: deletes ? retentionBytes : -1,
            flushMessages: flushMessages, flushMs: flushMs, messageTimestampType: messageTimestampType,
            producerIdExpirationMs: producerIdExpirationMs, compact: cleanupPolicy.contains(.compact),
            deleteRetentionMs: deleteRetentionMs, minCompactionLagMs: minCompactionLagMs,
            maxCompactionLagMs: maxCompactionLagMs, minCleanableDirtyRatio: minCleanableDirtyRatio)
    }
}
