/// The group coordinator's settings, read from the broker's Kafka-named properties. Immutable; thread-safe.
public struct GroupCoordinatorConfig: Sendable, Equatable {
    /// `offsets.topic.num.partitions`: partitions of `__consumer_offsets` (fixed once the topic exists).
    public var offsetsTopicPartitions: Int = 50
    /// `offsets.retention.minutes`, in ms: how long offsets of an empty group are kept.
    public var offsetsRetentionMs: Int64 = 10_080 * 60_000
    /// `offsets.retention.check.interval.ms`: how often expired offsets are removed.
    public var offsetsRetentionCheckIntervalMs: Int64 = 600_000
    /// `offset.metadata.max.bytes`: the largest metadata string accepted with a commit.
    public var offsetMetadataMaxBytes: Int = 4096
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits for more members.
    public var initialRebalanceDelayMs: Int64 = 3000
    /// `group.min.session.timeout.ms` and `group.max.session.timeout.ms`: the accepted session timeouts.
    public var minSessionTimeoutMs: Int32 = 6000
    public var maxSessionTimeoutMs: Int32 = 1_800_000
    /// `group.consumer.session.timeout.ms` and `group.consumer.heartbeat.interval.ms` of `consumer` groups.
    public var consumerSessionTimeoutMs: Int32 = 45_000
    public var consumerHeartbeatIntervalMs: Int32 = 5_000
    /// `group.max.size`: members of one classic group (Kafka's default, Int32.max); a new member past it gets
    /// GROUP_MAX_SIZE_REACHED.
    public var groupMaxSize: Int = Int(Int32.max)
    /// `group.consumer.max.size`: members of one `consumer`-protocol group (Kafka's default, Int32.max).
    public var consumerGroupMaxSize: Int = Int(Int32.max)
    /// `group.max.count` (Portask's own; Kafka has no such bound): group entries the coordinator keeps, classic
    /// and `consumer` groups together (a `consumer` group with committed offsets is two entries, one per map).
    /// A request that would create an entry past it gets COORDINATOR_NOT_AVAILABLE, except the offsets entry of
    /// an existing `consumer` group; groups loaded at start-up are all kept.
    public var groupMaxCount: Int = 100_000
    /// `group.share.session.timeout.ms` and `group.share.heartbeat.interval.ms` of share groups.
    public var shareSessionTimeoutMs: Int32 = 45_000
    public var shareHeartbeatIntervalMs: Int32 = 5_000
    /// `group.share.max.size`: members of one share group (Kafka's default, 200).
    public var shareGroupMaxSize: Int = 200
    /// `group.share.record.lock.duration.ms`: how long a share consumer holds the records it acquired.
    public var shareRecordLockDurationMs: Int64 = 30_000
    /// `group.share.delivery.count.limit`: deliveries of a record before it is archived.
    public var shareDeliveryCountLimit: Int16 = 5
    /// `group.share.partition.max.record.locks`: in-flight records of one share partition.
    public var sharePartitionMaxRecordLocks: Int = 2000
    /// `group.share.max.share.sessions`: share sessions the broker keeps.
    public var shareMaxSessions: Int = 2000
    /// `group.share.auto.offset.reset` (Portask's own broker-wide value of Kafka's group config
    /// `share.auto.offset.reset`): where a share group starts reading a partition, `latest` or `earliest`.
    public var shareAutoOffsetResetEarliest = false
    /// The bounds of the share group configs (`group.share.min/max.*`) and the broker-wide values they override.
    var shareGroupConfigBounds = GroupConfigStore.Bounds()
    /// `share.coordinator.state.topic.num.partitions`: partitions of `__share_group_state`.
    public var shareStateTopicPartitions: Int = 50
    /// `share.coordinator.snapshot.update.records.per.snapshot`: ShareUpdate records of a share partition between
    /// two of its ShareSnapshot records in `__share_group_state` (0–500; 0: every write is a snapshot).
    public var shareUpdatesPerSnapshot: Int = ShareStateTopic.defaultUpdatesPerSnapshot

    public init() {}

    /// Reads the `offsets.*` and `group.*` properties of `config` (defaults as in Kafka).
    public init(_ config: BrokerConfig) {
        func value(_ name: String) -> Int64? {
            (config.properties[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue)
                .flatMap { Int64($0.trimmingWhitespace()) }
        }
        offsetsTopicPartitions = Int(Int32(clamping: max(1, value("offsets.topic.num.partitions") ?? 50)))
        let retentionMinutes = value("offsets.retention.minutes") ?? 10_080
        let (retentionMs, overflow) = retentionMinutes.multipliedReportingOverflow(by: 60_000)
        offsetsRetentionMs = overflow ? (retentionMinutes < 0 ? Int64.min : Int64.max) : retentionMs
        offsetsRetentionCheckIntervalMs = max(1, value("offsets.retention.check.interval.ms") ?? 600_000)
        offsetMetadataMaxBytes = Int(value("offset.metadata.max.bytes") ?? 4096)
        initialRebalanceDelayMs = max(0, value("group.initial.rebalance.delay.ms") ?? 3000)
        minSessionTimeoutMs = Int32(clamping: value("group.min.session.timeout.ms") ?? 6000)
        maxSessionTimeoutMs = Int32(clamping: value("group.max.session.timeout.ms") ?? 1_800_000)
        consumerSessionTimeoutMs = Int32(clamping: value("group.consumer.session.timeout.ms") ?? 45_000)
        consumerHeartbeatIntervalMs = Int32(clamping: value("group.consumer.heartbeat.interval.ms") ?? 5_000)
        groupMaxSize = Int(max(1, value("group.max.size") ?? Int64(Int32.max)))
        consumerGroupMaxSize = Int(max(1, value("group.consumer.max.size") ?? Int64(Int32.max)))
        groupMaxCount = Int(max(1, value("group.max.count") ?? 100_000))
        shareSessionTimeoutMs = Int32(clamping: max(1, value("group.share.session.timeout.ms") ?? 45_000))
        shareHeartbeatIntervalMs = Int32(clamping: max(1, value("group.share.heartbeat.interval.ms") ?? 5_000))
        shareGroupMaxSize = Int(max(1, value("group.share.max.size") ?? 200))
        shareRecordLockDurationMs = max(1, min(value("group.share.record.lock.duration.ms") ?? 30_000, Int64(Int32.max)))
        shareDeliveryCountLimit = Int16(clamping: max(2, value("group.share.delivery.count.limit") ?? 5))
        sharePartitionMaxRecordLocks = Int(max(100, min(value("group.share.partition.max.record.locks") ?? 2000, 10_000)))
        shareMaxSessions = Int(max(1, min(value("group.share.max.share.sessions") ?? 2000, 1_000_000)))
        shareStateTopicPartitions = Int(Int32(clamping: max(1, value("share.coordinator.state.topic.num.partitions") ?? 50)))
        shareUpdatesPerSnapshot = Int(max(0, min(value("share.coordinator.snapshot.update.records.per.snapshot") ?? 500, 500)))
        let reset = config.properties["group.share.auto.offset.reset"] ?? "latest"
        shareAutoOffsetResetEarliest = reset.trimmingWhitespace().lowercased() == "earliest"
        func range(_ kind: String, _ low: Int64, _ high: Int64) -> ClosedRange<Int64> {
            let lower = value("group.share.min.\(kind)") ?? low
            return lower...max(lower, value("group.share.max.\(kind)") ?? high)
        }
        shareGroupConfigBounds = .init(
            lockDurationMs: range("record.lock.duration.ms", 15_000, 60_000),
            heartbeatIntervalMs: range("heartbeat.interval.ms", 5_000, 15_000),
            sessionTimeoutMs: range("session.timeout.ms", 45_000, 60_000),
            defaults: [
                GroupConfigStore.autoOffsetReset: shareAutoOffsetResetEarliest ? "earliest" : "latest",
                GroupConfigStore.recordLockDuration: String(shareRecordLockDurationMs),
                GroupConfigStore.heartbeatInterval: String(shareHeartbeatIntervalMs),
                GroupConfigStore.sessionTimeout: String(shareSessionTimeoutMs),
            ])
    }
}
