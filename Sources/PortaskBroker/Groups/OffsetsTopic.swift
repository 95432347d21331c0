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
/// is created on first use with `offsets.topic.num.partitions` partitions and `cleanup.policy=compact`;
/// LogEngine does not compact yet, so its `retention.ms` is -1 (records are kept, none are lost to time
/// retention). Thread-safe: creation is serialised by the TopicManager, appends by each partition log.
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
        return positive % Int32(max(1, count))
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

    func append(_ records: [GroupRecord], groupId: String) async throws {
        guard !records.isEmpty else { return }
        try ensureCreated()
        let index = Self.partition(for: groupId, count: partitions)
        guard let log = topics.partition(Self.name, index) else {
            throw BrokerError(.io, "no log for \(Self.name)-\(index)")
        }
        let builder = RecordBatchBuilder(baseOffset: 0, baseTimestamp: clock())
        let batch = builder.build(records.map { record in
            RecordBatchBuilder.Record(
                key: Array(record.key().readableBytesView), value: record.value().map { Array($0.readableBytesView) })
        })
        let info = try log.append(ByteBuffer(bytes: batch))
        try await log.waitUntilDurable(info.lastOffset + 1)
    }

    /// Every record of every partition, in log order per partition (partitions in index order). Empty when the
    /// topic does not exist. Records this broker does not understand are skipped and reported to `skipped`.
    func loadAll(skipped: (String) -> Void) throws -> [GroupRecord] {
        guard let topic = topics.topic(named: Self.name) else { return [] }
        var records: [GroupRecord] = []
        for index in 0..<Int32(topic.partitionCount) {
            guard let log = topics.partition(Self.name, index) else { continue }
            var offset = log.logStartOffset
            let end = log.logEndOffset
            while offset < end {
                guard let slice = try log.read(from: offset, maxBytes: 1 << 20, upperBound: end) else { break }
                let bytes = try slice.copyBytes()
                for (key, value) in try Self.decodeBatches(bytes, skipped: skipped) {
                    do {
                        if let record = try GroupRecord(key: key, value: value) { records.append(record) }
                    } catch {
                        skipped("\(Self.name)-\(index): \(error)")
                    }
                }
                guard slice.nextOffset > offset else { break }
                offset = slice.nextOffset
            }
        }
        return records
    }

    /// The (key, value) pairs of the uncompressed, non-control batches in `bytes`.
    static func decodeBatches(_ bytes: [UInt8], skipped: (String) -> Void) throws -> [(ByteBuffer, ByteBuffer?)] {
        var pairs: [(ByteBuffer, ByteBuffer?)] = []
        try bytes.withUnsafeBytes { raw in
            var position = 0
            while position + RecordBatchHeader.size <= raw.count {
                let header = try RecordBatchHeader(parsing: raw, at: position)
                let end = position + header.totalSize
                guard end <= raw.count else { break }
                defer { position = end }
                if header.isControl { continue }
                guard header.compressionCodec == 0 else {
                    skipped("compressed batch at offset \(header.baseOffset)")
                    continue
                }
                var cursor = position + RecordBatchHeader.size
                for _ in 0..<Int(header.recordCount) {
                    guard let length = varint(raw, &cursor, end: end) else { throw GroupRecord.malformed("record length") }
                    let recordEnd = cursor + Int(length)
                    guard length >= 0, recordEnd <= end else { throw GroupRecord.malformed("record size") }
                    cursor += 1  // attributes
                    _ = varint(raw, &cursor, end: recordEnd)  // timestamp delta
                    _ = varint(raw, &cursor, end: recordEnd)  // offset delta
                    let key = try field(raw, &cursor, end: recordEnd)
                    let value = try field(raw, &cursor, end: recordEnd)
                    cursor = recordEnd
                    if let key { pairs.append((key, value)) }
                }
            }
        }
        return pairs
    }

    private static func field(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) throws -> ByteBuffer? {
        guard let length = varint(raw, &cursor, end: end) else { throw GroupRecord.malformed("field length") }
        if length < 0 { return nil }
        guard cursor + Int(length) <= end else { throw GroupRecord.malformed("field size") }
        defer { cursor += Int(length) }
        return ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: raw[cursor..<cursor + Int(length)]))
    }

    /// A zigzag varint at `cursor`, advancing it; nil when malformed.
    private static func varint(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) -> Int64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end, shift < 64 {
            let byte = raw[cursor]
            cursor += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1) }
            shift += 7
        }
        return nil
    }
}
