import Foundation
import KafkaProtocol
import LogEngine
import NIOCore

/// The internal topic `__share_group_state`: the durable delivery state of share partitions, as Kafka's share
/// coordinator keeps it. Each share partition's state is one `ShareSnapshot` record (key: group id, topic id,
/// partition; value: start offset and the state batches of the in-flight range: Available 0 with its delivery
/// count, Acknowledged 2, Archived 4 — acquired records are stored as Available, so a restart redelivers
/// them), written durably before an acknowledgement is answered. The topic is compacted, so only the latest
/// snapshot of each share partition survives cleaning.
///
/// A share partition's records go to partition `abs(javaHashCode("group:topicId:partition")) % partitions`
/// (Kafka's `SharePartitionKey` placement). Created on first use with `share.coordinator.state.topic.num.partitions`
/// partitions and `cleanup.policy=compact`. Thread-safe: creation is serialised by the TopicManager, appends by
/// each partition log.
final class ShareStateTopic: Sendable {
    static let name = "__share_group_state"
    /// The record type of ShareSnapshot keys (their key version).
    static let snapshotKeyVersion: Int16 = 0
    static let updateKeyVersion: Int16 = 1

    let topics: TopicManager
    let partitions: Int
    let clock: @Sendable () -> Int64

    init(topics: TopicManager, partitions: Int, clock: @escaping @Sendable () -> Int64) {
        self.topics = topics
        self.partitions = topics.topic(named: Self.name)?.partitionCount ?? max(1, partitions)
        self.clock = clock
    }

    func ensureCreated() throws {
        if topics.topic(named: Self.name) != nil { return }
        do {
            try topics.create(
                name: Self.name, partitions: partitions,
                configs: ["cleanup.policy": "compact", "retention.ms": "-1",
                          "segment.bytes": String(topics.config.offsetsTopicSegmentBytes)])
        } catch .alreadyExists {
            return
        } catch {
            throw BrokerError(.io, "cannot create \(Self.name)", context: "\(error)")
        }
    }

    /// The share partition's state as a ShareSnapshot value.
    static func snapshot(_ state: SharePartitionState) -> ShareSnapshotValue {
        var batches: [ShareSnapshotValue.StateBatch] = []
        var offset = state.startOffset
        for record in state.records {
            let stored: Int8 = record.state == .acquired ? SharePartitionState.RecordState.available.rawValue : record.state.rawValue
            if var last = batches.last, last.deliveryState == stored, last.deliveryCount == record.deliveryCount,
               last.lastOffset &+ 1 == offset {
                last.lastOffset = offset
                batches[batches.count - 1] = last
            } else {
                batches.append(.init(firstOffset: offset, lastOffset: offset, deliveryState: stored, deliveryCount: record.deliveryCount))
            }
            offset &+= 1
        }
        return ShareSnapshotValue(stateEpoch: 0, leaderEpoch: 0, startOffset: state.startOffset, stateBatches: batches)
    }

    /// Appends the snapshot of one share partition and returns the offset to wait for (see `waitUntilDurable`).
    /// Synchronous (one write), so callers keep snapshots of a share partition in their order.
    func append(groupId: String, topicId: KafkaUUID, partition: Int32, _ value: ShareSnapshotValue) throws -> (PartitionLog, Int64) {
        try ensureCreated()
        let index = OffsetsTopic.partition(for: "\(groupId):\(topicId):\(partition)", count: partitions)
        guard let log = topics.partition(Self.name, index) else { throw BrokerError(.io, "no log for \(Self.name)-\(index)") }
        let key = try ShareSnapshotKey(groupId: groupId, topicId: topicId, partition: partition)
            .encodedRecord(version: Self.snapshotKeyVersion)
        let encodedValue = try value.encodedRecord(version: 0)
        let batch = RecordBatchEncoder(baseOffset: 0, baseTimestamp: clock()).build([
            RecordBatchEncoder.Record(key: Array(key.readableBytesView), value: Array(encodedValue.readableBytesView)),
        ])
        let info = try log.append(ByteBuffer(bytes: batch))
        return (log, info.lastOffset + 1)
    }

    /// A tombstone for one share partition (its group was deleted).
    func appendTombstone(groupId: String, topicId: KafkaUUID, partition: Int32) throws -> (PartitionLog, Int64) {
        try ensureCreated()
        let index = OffsetsTopic.partition(for: "\(groupId):\(topicId):\(partition)", count: partitions)
        guard let log = topics.partition(Self.name, index) else { throw BrokerError(.io, "no log for \(Self.name)-\(index)") }
        let key = try ShareSnapshotKey(groupId: groupId, topicId: topicId, partition: partition)
            .encodedRecord(version: Self.snapshotKeyVersion)
        let batch = RecordBatchEncoder(baseOffset: 0, baseTimestamp: clock()).build([
            RecordBatchEncoder.Record(key: Array(key.readableBytesView), value: nil),
        ])
        let info = try log.append(ByteBuffer(bytes: batch))
        return (log, info.lastOffset + 1)
    }

    /// One stored share partition: its key and latest snapshot (nil after a tombstone).
    struct Stored {
        var groupId: String
        var topicId: KafkaUUID
        var partition: Int32
        var value: ShareSnapshotValue?
    }

    /// The latest snapshot of every share partition, replayed in log order; unreadable records are skipped and
    /// counted in `report`.
    func loadAll(_ report: inout OffsetsTopicLoadReport) -> [Stored] {
        guard let topic = topics.topic(named: Self.name) else { return [] }
        struct Key: Hashable { var group: String; var topic: KafkaUUID; var partition: Int32 }
        var latest: [Key: ShareSnapshotValue?] = [:]
        var order: [Key] = []
        for index in 0..<Int32(clamping: topic.partitionCount) {
            guard let log = topics.partition(Self.name, index) else { continue }
            var offset = log.logStartOffset
            let end = log.logEndOffset
            while offset < end {
                do {
                    guard let slice = try log.read(from: offset, maxBytes: 1 << 20, upperBound: end) else { break }
                    var problems: [String] = []
                    try slice.withUnsafeBytes { raw in
                        OffsetsTopic.decodeBatches(raw, report: &report) { keyBytes, valueBytes in
                            do {
                                var key = keyBytes
                                let version = try ShareSnapshotKey.readRecordVersion(from: &key)
                                guard version == Self.snapshotKeyVersion else { return }
                                let parsed = try ShareSnapshotKey.decode(from: &key, version: version)
                                let value = try valueBytes.map { try ShareSnapshotValue.decodeRecord($0).record }
                                let id = Key(group: parsed.groupId, topic: parsed.topicId, partition: parsed.partition)
                                if latest[id] == nil { order.append(id) }
                                latest[id] = .some(value)
                            } catch {
                                problems.append("\(Self.name)-\(index): \(error)")
                            }
                        }
                    }
                    for problem in problems { report.skippedRecord(problem) }
                    guard slice.nextOffset > offset else { break }
                    offset = slice.nextOffset
                } catch {
                    report.unreadablePartition("\(Self.name)-\(index) from offset \(offset): \(error)")
                    break
                }
            }
        }
        return order.map { Stored(groupId: $0.group, topicId: $0.topic, partition: $0.partition, value: latest[$0] ?? nil) }
    }
}
