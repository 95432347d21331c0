import KafkaProtocol
import LogEngine
import NIOConcurrencyHelpers

/// Every share partition of every share group on this broker (Kafka's `SharePartitionManager`): one
/// `SharePartitionState` per (group, topic partition), created on the first ShareFetch of the group for the
/// partition, starting where the group's `share.auto.offset.reset` says (latest: the high watermark; earliest: the
/// log start offset; the broker's `group.share.auto.offset.reset` when the group sets none).
///
/// Thread-safety: the map sits behind one lock held only for lookups and insertions; each share partition has
/// its own lock, held for state changes only (never during log reads or I/O).
final class SharePartitions: Sendable {
    struct Key: Hashable, Sendable {
        var groupId: String
        var partition: TopicPartition
    }

    /// The settings of share partitions. A value type.
    struct Settings: Sendable {
        /// `group.share.record.lock.duration.ms`.
        var lockDurationMs: Int64 = 30_000
        /// `group.share.delivery.count.limit`.
        var deliveryLimit: Int16 = 5
        /// `group.share.partition.max.record.locks`.
        var maxRecordLocks: Int = 2000
        /// Where a new share partition starts: true for `earliest`, false for `latest` (Kafka's default).
        var startAtEarliest = false
    }

    let settings: Settings
    /// Where the states are kept durably; nil in unit tests.
    let store: ShareStateTopic?
    /// Per-group overrides of `share.auto.offset.reset` and `share.record.lock.duration.ms`; nil: none.
    let groupConfigs: GroupConfigStore?
    private let partitions = NIOLockedValueBox<[Key: NIOLockedValueBox<SharePartitionState>]>([:])

    init(settings: Settings, store: ShareStateTopic? = nil, groupConfigs: GroupConfigStore? = nil) {
        self.settings = settings
        self.store = store
        self.groupConfigs = groupConfigs
    }

    /// The acquisition lock duration of a group's records: its `share.record.lock.duration.ms`, else the broker's.
    func lockDurationMs(_ groupId: String) -> Int64 {
        groupConfigs?.integer(GroupConfigStore.recordLockDuration, of: groupId) ?? settings.lockDurationMs
    }

    /// Whether a new share partition of the group starts at the log start (`earliest`) or the high watermark.
    func startsAtEarliest(_ groupId: String) -> Bool {
        groupConfigs?.startsAtEarliest(groupId) ?? settings.startAtEarliest
    }

    /// Writes the state of one share partition to `__share_group_state` (the caller holds its lock, so the
    /// snapshots of a share partition are appended in order); returns what to wait for before answering.
    func persist(_ key: Key, topicId: KafkaUUID, _ state: SharePartitionState) throws -> (PartitionLog, Int64)? {
        guard let store else { return nil }
        return try store.append(
            groupId: key.groupId, topicId: topicId, partition: key.partition.partition, ShareStateTopic.snapshot(state))
    }

    /// Restores the stored share partitions at start-up (those of topics that no longer exist are dropped).
    func restore(_ stored: [ShareStateTopic.Stored], topics: TopicManager) -> Int {
        var restored = 0
        partitions.withLockedValue { map in
            for entry in stored {
                guard let value = entry.value, let topic = topics.topic(id: entry.topicId),
                      entry.partition >= 0, Int(entry.partition) < topic.partitionCount else { continue }
                let key = Key(groupId: entry.groupId, partition: TopicPartition(topic.name, entry.partition))
                map[key] = NIOLockedValueBox(SharePartitionState(
                    restoring: value, deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks))
                restored += 1
            }
        }
        return restored
    }

    /// The share partition, created at the reset position of `log` when missing.
    func partition(_ key: Key, log: PartitionLog) -> NIOLockedValueBox<SharePartitionState> {
        partitions.withLockedValue { map in
            if let existing = map[key] { return existing }
            let start = startsAtEarliest(key.groupId) ? log.logStartOffset : log.highWatermark
            let state = NIOLockedValueBox(SharePartitionState(
                startOffset: start, deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks))
            map[key] = state
            return state
        }
    }

    /// The share partition if it exists.
    func existing(_ key: Key) -> NIOLockedValueBox<SharePartitionState>? {
        partitions.withLockedValue { $0[key] }
    }

    /// Releases what `memberId` holds in every share partition of `groupId`.
    func releaseAll(groupId: String, memberId: String) {
        for state in states(of: groupId).map(\.1) {
            state.withLockedValue { $0.releaseAll(memberId: memberId) }
        }
    }

    /// The share partitions of a group with their states, in partition order.
    func states(of groupId: String) -> [(TopicPartition, NIOLockedValueBox<SharePartitionState>)] {
        partitions.withLockedValue { map in
            map.filter { $0.key.groupId == groupId }.map { ($0.key.partition, $0.value) }
        }.sorted { $0.0 < $1.0 }
    }

    /// Starts a share partition afresh at `offset` (AlterShareGroupOffsets), durably.
    func reset(_ key: Key, topicId: KafkaUUID, to offset: Int64) async throws {
        let state = SharePartitionState(
            startOffset: offset, deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks)
        let box = partitions.withLockedValue { map -> NIOLockedValueBox<SharePartitionState> in
            if let existing = map[key] { return existing }
            let created = NIOLockedValueBox(state)
            map[key] = created
            return created
        }
        let pending = try box.withLockedValue { current -> (PartitionLog, Int64)? in
            current = state
            return try persist(key, topicId: topicId, state)
        }
        if let (log, end) = pending { try await log.waitUntilDurable(end) }
    }

    /// Forgets the share partitions of one topic of a group (DeleteShareGroupOffsets), durably.
    func remove(groupId: String, topic: Topic) async throws {
        let removed = partitions.withLockedValue { map -> [Key] in
            let keys = map.keys.filter { $0.groupId == groupId && $0.partition.topic == topic.name }
            for key in keys { map.removeValue(forKey: key) }
            return keys
        }
        guard let store else { return }
        for key in removed {
            let (log, end) = try store.appendTombstone(groupId: groupId, topicId: topic.id, partition: key.partition.partition)
            try await log.waitUntilDurable(end)
        }
    }

    /// Every share partition with its state.
    func allStates() -> [(Key, NIOLockedValueBox<SharePartitionState>)] {
        partitions.withLockedValue { map in map.map { ($0.key, $0.value) } }
    }

    /// Forgets every share partition of a group (DeleteGroups), with a durable tombstone for each stored one.
    func removeAll(groupId: String, topics: TopicManager?) async throws {
        let removed = partitions.withLockedValue { map -> [Key] in
            let keys = map.keys.filter { $0.groupId == groupId }
            for key in keys { map.removeValue(forKey: key) }
            return keys
        }
        guard let store, let topics else { return }
        for key in removed {
            guard let topic = topics.topic(named: key.partition.topic) else { continue }
            let (log, offset) = try store.appendTombstone(groupId: groupId, topicId: topic.id, partition: key.partition.partition)
            try await log.waitUntilDurable(offset)
        }
    }
}
