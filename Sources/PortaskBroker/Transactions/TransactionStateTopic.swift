import KafkaProtocol
import LogEngine
import NIOCore

/// The internal topic `__transaction_state`: one record per transaction state change, Kafka's layout
/// (`TransactionLogKey` version 0: the transactional id; `TransactionLogValue` version 0: producer id and
/// epoch, timeout, status, partitions, timestamps; a null value removes the id), in uncompressed record
/// batches v2. A transactional id's records go to partition `abs(javaHashCode(id)) % partitions`, as Kafka
/// places them. Created on first use with `transaction.state.log.num.partitions` partitions,
/// `cleanup.policy=compact`. Thread-safe: creation is serialised by the TopicManager, appends by each log.
final class TransactionStateTopic: Sendable {
    static let name = "__transaction_state"

    let topics: TopicManager
    let partitions: Int

    init(topics: TopicManager, partitions: Int) {
        self.topics = topics
        self.partitions = topics.topic(named: Self.name)?.partitionCount ?? partitions
    }

    func partition(for transactionalId: String) -> Int32 {
        OffsetsTopic.partition(for: transactionalId, count: partitions)
    }

    /// Creates the topic when it does not exist yet.
    func ensureCreated() throws {
        if topics.topic(named: Self.name) != nil { return }
        do {
            try topics.create(
                name: Self.name, partitions: partitions,
                configs: ["cleanup.policy": "compact", "retention.ms": "-1", "segment.bytes": "104857600"])
        } catch .alreadyExists {
            return
        } catch {
            throw BrokerError(.io, "cannot create \(Self.name)", context: "\(error)")
        }
    }

    /// Kafka's value of `metadata`.
    static func value(_ metadata: TransactionMetadata) -> TransactionLogValue {
        let byTopic = Dictionary(grouping: metadata.partitions, by: \.topic)
        return TransactionLogValue(
            producerId: metadata.producerId, producerEpoch: metadata.producerEpoch,
            transactionTimeoutMs: metadata.timeoutMs, transactionStatus: metadata.state.rawValue,
            transactionPartitions: byTopic.keys.sorted().map { topic in
                .init(topic: topic, partitionIds: (byTopic[topic] ?? []).map(\.partition).sorted())
            },
            transactionLastUpdateTimestampMs: metadata.lastUpdateTimestamp,
            transactionStartTimestampMs: metadata.startTimestamp)
    }

    /// Writes `metadata` and returns once it is durable.
    func write(_ metadata: TransactionMetadata, now: Int64) async throws {
        try await write(id: metadata.transactionalId, value: Self.value(metadata), now: now)
    }

    /// Writes the record of `id` (a tombstone when `value` is nil) and returns once it is durable.
    func write(id: String, value: TransactionLogValue?, now: Int64) async throws {
        try ensureCreated()
        let index = partition(for: id)
        guard let log = topics.partition(Self.name, index) else {
            throw BrokerError(.io, "no log for \(Self.name)-\(index)")
        }
        let key = try TransactionLogKey(transactionalId: id).encodedRecord(version: 0)
        let stored = try value?.encodedRecord(version: 0)
        let batch = try RecordBatchEncoder(baseOffset: 0, baseTimestamp: now).encode([
            .init(key: Array(key.readableBytesView), value: stored.map { Array($0.readableBytesView) }),
        ])
        let info = try log.append(ByteBuffer(bytes: batch), origin: .broker)
        try await log.waitUntilDurable(info.lastOffset + 1)
    }

    /// The latest state of every transactional id in the topic (later records win, tombstones remove). Records
    /// that cannot be decoded are skipped and counted in `report`.
    func loadAll(_ report: inout OffsetsTopicLoadReport) -> [String: TransactionMetadata] {
        guard let topic = topics.topic(named: Self.name) else { return [:] }
        var loaded: [String: TransactionMetadata] = [:]
        for index in 0..<Int32(clamping: topic.partitionCount) {
            guard let log = topics.partition(Self.name, index) else { continue }
            var offset = log.logStartOffset
            let end = log.logEndOffset
            while offset < end {
                do {
                    guard let slice = try log.read(from: offset, maxBytes: 1 << 20, upperBound: end) else { break }
                    var problems: [String] = []
                    try slice.withUnsafeBytes { raw in
                        OffsetsTopic.decodeBatches(raw, report: &report) { key, value in
                            do {
                                let (keyVersion, decodedKey) = try TransactionLogKey.decodeRecord(key)
                                guard keyVersion == 0 else { return }
                                let id = decodedKey.transactionalId
                                guard let value else {
                                    loaded.removeValue(forKey: id)
                                    return
                                }
                                let (_, decoded) = try TransactionLogValue.decodeRecord(value)
                                guard let state = TransactionState(rawValue: decoded.transactionStatus) else {
                                    problems.append("\(id): unknown transaction status \(decoded.transactionStatus)")
                                    return
                                }
                                var partitions = Set<TopicPartition>()
                                for entry in decoded.transactionPartitions ?? [] {
                                    for partition in entry.partitionIds { partitions.insert(TopicPartition(entry.topic, partition)) }
                                }
                                loaded[id] = TransactionMetadata(
                                    transactionalId: id, producerId: decoded.producerId,
                                    producerEpoch: decoded.producerEpoch, timeoutMs: decoded.transactionTimeoutMs,
                                    state: state, partitions: partitions,
                                    startTimestamp: decoded.transactionStartTimestampMs,
                                    lastUpdateTimestamp: decoded.transactionLastUpdateTimestampMs)
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
        return loaded
    }
}
