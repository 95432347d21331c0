import Foundation
import LogEngine
import NIOCore

/// Where the group coordinator keeps its state durably. Implementations are thread-safe.
protocol GroupStore: Sendable {
    /// Appends `records` of one group and returns once they are durable (acks=all semantics).
    func append(_ records: [GroupRecord], groupId: String) async throws
}

/// The internal topic `__consumer_offsets`: group metadata and committed offsets as Kafka stores them
/// (`GroupRecord` layouts in uncompressed record batches v2, key and value per record, null value for deletions).
///
/// A group's records go to partition `abs(javaHashCode(groupId)) % partitions`, as Kafka places them. The topic
/// is created on first use with `offsets.topic.num.partitions` partitions, `offsets.topic.segment.bytes` segments
/// and `cleanup.policy=compact`: the log cleaner keeps each key's latest record (a group's metadata, each committed
/// offset), so the topic and its replay at start-up stay bounded by the live state, and tombstones go after
/// `delete.retention.ms`. Thread-safe: creation is serialised by the TopicManager, appends by each partition log.
final class OffsetsTopic: GroupStore {
    static let name = "__consumer_offsets"

    let topics: TopicManager
    let partitions: Int
    let clock: @Sendable () -> Int64

    init(topics: TopicManager, partitions: Int, clock: @escaping @Sendable () -> Int64) {
        self.topics = topics
        self.partitions = topics.topic(named: Self.name)?.partitionCount ?? partitions
        self.clock = clock
    }

    /// Java's `String.hashCode` over UTF-16 code units, with Kafka's `Utils.abs` (MIN_VALUE maps to 0).
    static func partition(for groupId: String, count: Int) -> Int32 {
        var hash: Int32 = 0
        for unit in groupId.utf16 { hash = hash &* 31 &+ Int32(unit) }
        let positive = hash == Int32.min ? 0 : abs(hash)
        return positive % Int32(clamping: max(1, count))
    }

    /// Creates the topic when it does not exist yet.
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

    func append(_ records: [GroupRecord], groupId: String) async throws {
        guard !records.isEmpty else { return }
        try ensureCreated()
        let index = Self.partition(for: groupId, count: partitions)
        guard let log = topics.partition(Self.name, index) else {
            throw BrokerError(.io, "no log for \(Self.name)-\(index)")
        }
        // Encoding throws for a field that does not fit Kafka's layout: such a write fails, it is never clamped.
        let encoded = try records.map { record in
            RecordBatchEncoder.Record(
                key: Array(try record.key().readableBytesView),
                value: try record.value().map { Array($0.readableBytesView) })
        }
        let batch = RecordBatchEncoder(baseOffset: 0, baseTimestamp: clock()).build(encoded)
        let info = try log.append(ByteBuffer(bytes: batch))
        try await log.waitUntilDurable(info.lastOffset + 1)
    }
}
