import Foundation
import KafkaProtocol
import LogEngine
import NIOConcurrencyHelpers
import NIOCore

/// The internal topic `__share_group_state`: the durable delivery state of share partitions, kept as Kafka's share
/// coordinator keeps it. A share partition's first write is a `ShareSnapshot` record (key version 0: group id,
/// topic id, partition; value: snapshot epoch, start offset and the state batches of the in-flight range —
/// Available 0 with its delivery count, Acknowledged 2, Archived 4). Each later change is a `ShareUpdate` record
/// (key version 1) holding the start offset and only the offsets whose stored state changed; after
/// `share.coordinator.snapshot.update.records.per.snapshot` updates the next write is a full snapshot again (with
/// the next snapshot epoch). Replaying a share partition's latest snapshot and then its later updates, in log
/// order, gives its state. Writes are appended in the share partition's order (callers hold its lock) and made
/// durable before an acknowledgement is answered.
///
/// As in Kafka the topic uses `cleanup.policy=delete` (compaction would keep only the last update of each share
/// partition) with no time or size retention: records below the oldest latest snapshot of the share partitions
/// placed in a partition are redundant and are deleted (`prune`) once everything before them is durable. A topic
/// created compacted by an earlier version is switched to `delete` on first use.
///
/// A share partition's records go to partition `abs(javaHashCode("group:topicId:partition")) % partitions`
/// (Kafka's `SharePartitionKey` placement). Created on first use with `share.coordinator.state.topic.num.partitions`
/// partitions. Thread-safe: creation is serialised by the TopicManager, appends by each partition log, the
/// per-share-partition bookkeeping by one lock held only for map operations.
final class ShareStateTopic: Sendable {
    static let name = "__share_group_state"
    /// The key versions (record types) of ShareSnapshot and ShareUpdate records.
    static let snapshotKeyVersion: Int16 = 0
    static let updateKeyVersion: Int16 = 1
    /// Kafka's default of `share.coordinator.snapshot.update.records.per.snapshot`.
    static let defaultUpdatesPerSnapshot = 500

    /// One share partition as the topic names it.
    struct StateKey: Hashable, Sendable {
        var groupId: String
        var topicId: KafkaUUID
        var partition: Int32
    }

    /// What the topic knows of a share partition's records.
    struct Progress: Sendable, Equatable {
        /// The partition of the topic holding its records.
        var index: Int32
        /// Where its latest snapshot is: nothing before it is needed for this share partition.
        var snapshotOffset: Int64
        var snapshotEpoch: UInt16
        /// Updates written since that snapshot.
        var updates: Int
        /// A write failed: the next one is a full snapshot.
        var needsSnapshot = false
    }

    /// A written record to wait for: `end` is the offset after it in `log`.
    struct Pending: Sendable {
        var log: PartitionLog
        var end: Int64
        var index: Int32
        var isSnapshot: Bool
    }

    let topics: TopicManager
    let partitions: Int
    /// `share.coordinator.snapshot.update.records.per.snapshot` (0: every write is a snapshot).
    let updatesPerSnapshot: Int
    let clock: @Sendable () -> Int64
    let progress = NIOLockedValueBox<[StateKey: Progress]>([:])

    init(topics: TopicManager, partitions: Int, updatesPerSnapshot: Int = defaultUpdatesPerSnapshot,
         clock: @escaping @Sendable () -> Int64)
    {
        self.topics = topics
        self.partitions = topics.topic(named: Self.name)?.partitionCount ?? max(1, partitions)
        self.updatesPerSnapshot = max(0, updatesPerSnapshot)
        self.clock = clock
    }

    static let topicConfigs = ["cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"]

    func ensureCreated() throws {
        if let existing = topics.topic(named: Self.name) {
            if existing.configs["cleanup.policy"] != "delete" {
                var configs = existing.configs
                for (name, value) in Self.topicConfigs { configs[name] = value }
                do {
                    try topics.setConfigs(name: Self.name, configs: configs)
                } catch {
                    throw BrokerError(.io, "cannot set the cleanup policy of \(Self.name)", context: "\(error)")
                }
            }
            return
        }
        do {
            try topics.create(
                name: Self.name, partitions: partitions,
                configs: Self.topicConfigs.merging(["segment.bytes": String(topics.config.offsetsTopicSegmentBytes)]) { $1 })
        } catch .alreadyExists {
            return
        } catch {
            throw BrokerError(.io, "cannot create \(Self.name)", context: "\(error)")
        }
    }

    func index(of key: StateKey) -> Int32 {
        OffsetsTopic.partition(for: "\(key.groupId):\(key.topicId):\(key.partition)", count: partitions)
    }

    /// Writes a share partition's change: nothing when `before` is given and nothing stored changed; a ShareUpdate
    /// with the changed offsets when a snapshot exists and fewer than `updatesPerSnapshot` updates followed it;
    /// else (or with `forceSnapshot`) a ShareSnapshot of `state`. The caller holds the share partition's lock, so
    /// its records are appended in order; wait for the returned record before answering (see `Pending`).
    func write(_ key: StateKey, _ state: SharePartitionState, before: SharePartitionState?, forceSnapshot: Bool = false)
        throws -> Pending?
    {
        let current = progress.withLockedValue { $0[key] }
        var delta: [SharePartitionState.StoredBatch]?
        if let before, !forceSnapshot {
            let changes = state.storedChanges(since: before)
            if changes.isEmpty && state.startOffset == before.startOffset && current?.needsSnapshot != true { return nil }
            delta = changes
        }
        do {
            if let current, let delta, !current.needsSnapshot, current.updates < updatesPerSnapshot {
                let value = ShareUpdateValue(
                    snapshotEpoch: current.snapshotEpoch, leaderEpoch: 0, startOffset: state.startOffset,
                    stateBatches: delta.map {
                        .init(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, deliveryState: $0.deliveryState,
                              deliveryCount: $0.deliveryCount)
                    })
                let encodedKey = try ShareUpdateKey(groupId: key.groupId, topicId: key.topicId, partition: key.partition)
                    .encodedRecord(version: Self.updateKeyVersion)
                let (log, _, end) = try append(index: current.index, key: encodedKey, value: try value.encodedRecord(version: 0))
                progress.withLockedValue { $0[key]?.updates += 1 }
                return Pending(log: log, end: end, index: current.index, isSnapshot: false)
            }
            let epoch = current.map { $0.snapshotEpoch &+ 1 } ?? 0
            let value = ShareSnapshotValue(
                snapshotEpoch: epoch, stateEpoch: 0, leaderEpoch: 0, startOffset: state.startOffset,
                stateBatches: state.storedBatches.map {
                    .init(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, deliveryState: $0.deliveryState,
                          deliveryCount: $0.deliveryCount)
                })
            let encodedKey = try ShareSnapshotKey(groupId: key.groupId, topicId: key.topicId, partition: key.partition)
                .encodedRecord(version: Self.snapshotKeyVersion)
            let index = current?.index ?? self.index(of: key)
            let (log, offset, end) = try append(index: index, key: encodedKey, value: try value.encodedRecord(version: 0))
            progress.withLockedValue {
                $0[key] = Progress(index: index, snapshotOffset: offset, snapshotEpoch: epoch, updates: 0)
            }
            return Pending(log: log, end: end, index: index, isSnapshot: true)
        } catch {
            progress.withLockedValue { map in map[key]?.needsSnapshot = true }
            throw error
        }
    }

    /// A tombstone for one share partition (its group or its offsets were deleted); its earlier records become
    /// redundant.
    func writeTombstone(_ key: StateKey) throws -> Pending {
        let index = progress.withLockedValue { $0[key]?.index } ?? self.index(of: key)
        let encodedKey = try ShareSnapshotKey(groupId: key.groupId, topicId: key.topicId, partition: key.partition)
            .encodedRecord(version: Self.snapshotKeyVersion)
        let (log, _, end) = try append(index: index, key: encodedKey, value: nil)
        progress.withLockedValue { _ = $0.removeValue(forKey: key) }
        return Pending(log: log, end: end, index: index, isSnapshot: true)
    }

    /// Forgets a share partition whose records are of no use (its topic is gone): they no longer hold back pruning.
    func forget(_ key: StateKey) {
        progress.withLockedValue { _ = $0.removeValue(forKey: key) }
    }

    /// Appends one record in its own batch; returns the log, the record's offset and the offset after it.
    private func append(index: Int32, key: ByteBuffer, value: ByteBuffer?) throws -> (PartitionLog, Int64, Int64) {
        try ensureCreated()
        guard let log = topics.partition(Self.name, index) else { throw BrokerError(.io, "no log for \(Self.name)-\(index)") }
        let batch = RecordBatchEncoder(baseOffset: 0, baseTimestamp: clock()).build([
            RecordBatchEncoder.Record(key: Array(key.readableBytesView), value: value.map { Array($0.readableBytesView) }),
        ])
        let info = try log.append(ByteBuffer(bytes: batch))
        return (log, info.lastOffset, info.lastOffset + 1)
    }

    /// Waits until `pending` is durable; after a snapshot or a tombstone, deletes the records of its partition that
    /// no share partition needs any more.
    func waitUntilDurable(_ pending: Pending) async throws {
        try await pending.log.waitUntilDurable(pending.end)
        if pending.isSnapshot { try await prune(pending.index) }
    }

    /// Share partitions of a partition whose latest snapshot lies more than this many offsets before its end are
    /// written afresh (`coldKeys`), so an idle share partition does not keep the records after it forever.
    var coldDistance: Int64 { Int64(max(updatesPerSnapshot, 100)) &* 10 }

    /// Deletes the records of partition `index` below the oldest latest snapshot of the share partitions placed
    /// there (all of them when none is), once everything before the end seen now is durable: a snapshot written
    /// later than the bookkeeping read here is not relied on. Returns the share partitions whose snapshot is more
    /// than `coldDistance` behind the end.
    @discardableResult
    func prune(_ index: Int32) async throws -> [StateKey] {
        guard let log = topics.partition(Self.name, index) else { return [] }
        let pins = progress.withLockedValue { map in map.filter { $0.value.index == index } }
        let end = log.logEndOffset
        try await log.waitUntilDurable(end)
        let oldest = pins.values.map(\.snapshotOffset).min() ?? end
        let target = min(oldest, end, log.highWatermark)
        if target > log.logStartOffset { try log.deleteRecords(before: target) }
        return pins.filter { end &- $0.value.snapshotOffset > coldDistance }.map(\.key)
    }
}
