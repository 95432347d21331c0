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
    /// A share partition: its state (behind its own lock) and the id of its topic.
    struct Slot: Sendable {
        var state: NIOLockedValueBox<SharePartitionState>
        var topicId: KafkaUUID
    }

    private let slots = NIOLockedValueBox<[Key: Slot]>([:])

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

    /// Writes the change of one share partition from `before` to `state` to `__share_group_state` (a ShareUpdate,
    /// or a ShareSnapshot when one is due or `before` is nil); the caller holds its lock, so its records are
    /// appended in order. Returns what to wait for (`waitUntilDurable`) before answering; nil when nothing stored
    /// changed or there is no store.
    func persist(_ key: Key, _ state: SharePartitionState, before: SharePartitionState?, forceSnapshot: Bool = false)
        throws -> ShareStateTopic.Pending?
    {
        guard let store, let topicId = topicId(of: key) else { return nil }
        return try store.write(
            .init(groupId: key.groupId, topicId: topicId, partition: key.partition.partition), state, before: before,
            forceSnapshot: forceSnapshot)
    }

    /// Changes one share partition under its lock and, when `body` says it changed it, writes the change without
    /// waiting for it (lock expiries, releases of a member that left): a failed write makes the next one a full
    /// snapshot.
    func change<T>(
        _ key: Key, _ box: NIOLockedValueBox<SharePartitionState>, _ body: (inout SharePartitionState) -> (T, changed: Bool)
    ) -> T {
        box.withLockedValue { state in
            let before = state
            let (result, changed) = body(&state)
            if changed { _ = try? persist(key, state, before: before) }
            return result
        }
    }

    /// Waits until a write is durable; after a snapshot, prunes the redundant records of its partition and writes
    /// afresh the snapshots of idle share partitions that hold pruning back.
    func waitUntilDurable(_ pending: ShareStateTopic.Pending) async throws {
        guard let store else { return }
        try await pending.log.waitUntilDurable(pending.end)
        guard pending.isSnapshot else { return }
        let cold = try await store.prune(pending.index)
        for stateKey in cold {
            let found = slots.withLockedValue { map in
                map.first {
                    $0.value.topicId == stateKey.topicId && $0.key.groupId == stateKey.groupId
                        && $0.key.partition.partition == stateKey.partition
                }
            }
            guard let (key, slot) = found else {
                store.forget(stateKey)
                continue
            }
            _ = try? slot.state.withLockedValue { state in try persist(key, state, before: nil, forceSnapshot: true) }
        }
    }

    /// The topic id a share partition was created with.
    func topicId(of key: Key) -> KafkaUUID? {
        slots.withLockedValue { $0[key]?.topicId }
    }

    /// Restores the stored share partitions at start-up (those of topics that no longer exist are dropped and
    /// forgotten by the store).
    func restore(_ stored: [ShareStateTopic.Stored], topics: TopicManager) -> Int {
        var restored = 0
        var dropped: [ShareStateTopic.StateKey] = []
        slots.withLockedValue { map in
            for entry in stored {
                guard let topic = topics.topic(id: entry.key.topicId),
                      entry.key.partition >= 0, Int(entry.key.partition) < topic.partitionCount else {
                    dropped.append(entry.key)
                    continue
                }
                let key = Key(groupId: entry.key.groupId, partition: TopicPartition(topic.name, entry.key.partition))
                map[key] = Slot(state: NIOLockedValueBox(entry.state), topicId: topic.id)
                restored += 1
            }
        }
        for key in dropped { store?.forget(key) }
        return restored
    }

    /// The share partition, created at the reset position of `log` when missing.
    func partition(_ key: Key, topicId: KafkaUUID, log: PartitionLog) -> NIOLockedValueBox<SharePartitionState> {
        slots.withLockedValue { map in
            if let existing = map[key] { return existing.state }
            let start = startsAtEarliest(key.groupId) ? log.logStartOffset : log.highWatermark
            let state = NIOLockedValueBox(SharePartitionState(
                startOffset: start, deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks))
            map[key] = Slot(state: state, topicId: topicId)
            return state
        }
    }

    /// The share partition if it exists.
    func existing(_ key: Key) -> NIOLockedValueBox<SharePartitionState>? {
        slots.withLockedValue { $0[key]?.state }
    }

    /// Releases what `memberId` holds in every share partition of `groupId`, writing the changes; returns the
    /// partitions where it held records.
    @discardableResult
    func releaseAll(groupId: String, memberId: String) -> [TopicPartition] {
        var released: [TopicPartition] = []
        for (partition, state) in states(of: groupId) {
            let held = state.withLockedValue { $0.records.contains { $0.memberId == memberId } }
            guard held else { continue }
            change(Key(groupId: groupId, partition: partition), state) { ($0.releaseAll(memberId: memberId), true) }
            released.append(partition)
        }
        return released
    }

    /// The share partitions of a group with their states, in partition order.
    func states(of groupId: String) -> [(TopicPartition, NIOLockedValueBox<SharePartitionState>)] {
        slots.withLockedValue { map in
            map.filter { $0.key.groupId == groupId }.map { ($0.key.partition, $0.value.state) }
        }.sorted { $0.0 < $1.0 }
    }

    /// Starts a share partition afresh at `offset` (AlterShareGroupOffsets), durably (a full snapshot).
    func reset(_ key: Key, topicId: KafkaUUID, to offset: Int64) async throws {
        let state = SharePartitionState(
            startOffset: offset, deliveryLimit: settings.deliveryLimit, maxRecordLocks: settings.maxRecordLocks)
        let box = slots.withLockedValue { map -> NIOLockedValueBox<SharePartitionState> in
            if let existing = map[key], existing.topicId == topicId { return existing.state }
            let created = NIOLockedValueBox(state)
            map[key] = Slot(state: created, topicId: topicId)
            return created
        }
        let pending = try box.withLockedValue { current -> ShareStateTopic.Pending? in
            current = state
            return try persist(key, state, before: nil, forceSnapshot: true)
        }
        if let pending { try await waitUntilDurable(pending) }
    }

    /// Forgets the share partitions of one topic of a group (DeleteShareGroupOffsets), durably.
    func remove(groupId: String, topic: Topic) async throws {
        let removed = slots.withLockedValue { map -> [(Key, Slot)] in
            let entries = map.filter { $0.key.groupId == groupId && $0.key.partition.topic == topic.name }
            for key in entries.keys { map.removeValue(forKey: key) }
            return entries.map { ($0.key, $0.value) }
        }
        try await writeTombstones(removed)
    }

    /// Every share partition with its state.
    func allStates() -> [(Key, NIOLockedValueBox<SharePartitionState>)] {
        slots.withLockedValue { map in map.map { ($0.key, $0.value.state) } }
    }

    /// Forgets every share partition of a group (DeleteGroups), with a durable tombstone for each stored one.
    func removeAll(groupId: String) async throws {
        let removed = slots.withLockedValue { map -> [(Key, Slot)] in
            let entries = map.filter { $0.key.groupId == groupId }
            for key in entries.keys { map.removeValue(forKey: key) }
            return entries.map { ($0.key, $0.value) }
        }
        try await writeTombstones(removed)
    }

    private func writeTombstones(_ removed: [(Key, Slot)]) async throws {
        guard let store else { return }
        for (key, slot) in removed {
            let stateKey = ShareStateTopic.StateKey(groupId: key.groupId, topicId: slot.topicId, partition: key.partition.partition)
            let pending = try slot.state.withLockedValue { _ in try store.writeTombstone(stateKey) }
            try await waitUntilDurable(pending)
        }
    }
}
