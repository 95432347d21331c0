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

    public init() {}

    /// Reads the `offsets.*` and `group.*` properties of `config` (defaults as in Kafka).
    public init(_ config: BrokerConfig) {
        func value(_ name: String) -> Int64? {
            (config.properties[name] ?? BrokerConfigDefinition.byName[name]?.defaultValue)
                .flatMap { Int64($0.trimmingWhitespace()) }
        }
        offsetsTopicPartitions = max(1, Int(value("offsets.topic.num.partitions") ?? 50))
        offsetsRetentionMs = (value("offsets.retention.minutes") ?? 10_080) * 60_000
        offsetsRetentionCheckIntervalMs = max(1, value("offsets.retention.check.interval.ms") ?? 600_000)
        offsetMetadataMaxBytes = Int(value("offset.metadata.max.bytes") ?? 4096)
        initialRebalanceDelayMs = max(0, value("group.initial.rebalance.delay.ms") ?? 3000)
        minSessionTimeoutMs = Int32(clamping: value("group.min.session.timeout.ms") ?? 6000)
        maxSessionTimeoutMs = Int32(clamping: value("group.max.session.timeout.ms") ?? 1_800_000)
        consumerSessionTimeoutMs = Int32(clamping: value("group.consumer.session.timeout.ms") ?? 45_000)
        consumerHeartbeatIntervalMs = Int32(clamping: value("group.consumer.heartbeat.interval.ms") ?? 5_000)
    }
}
