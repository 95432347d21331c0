import Foundation
import LogEngine

/// A fresh directory under the system temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "portask-verify-\(safe)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// One record for `KafkaBatch`.
struct FixtureRecord: Equatable {
    var key: [UInt8]?
    var value: [UInt8]?
    var headers: [(String, [UInt8]?)] = []
    var timestampDelta: Int64 = 0

    static func == (lhs: FixtureRecord, rhs: FixtureRecord) -> Bool {
        lhs.key == rhs.key && lhs.value == rhs.value && lhs.timestampDelta == rhs.timestampDelta
            && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }
}

/// Builds record batches v2 byte for byte as Apache Kafka's `MemoryRecordsBuilder` / `DefaultRecord` write them
/// (records with headers, optionally compressed, CRC-32C over attributes..end), through LogEngine's
/// `RecordBatchEncoder`.
enum KafkaBatch {
    static func build(
        baseOffset: Int64, records: [FixtureRecord], codec: CompressionCodec = .none,
        baseTimestamp: Int64 = 1_700_000_000_000, partitionLeaderEpoch: Int32 = 0, producerId: Int64 = -1,
        producerEpoch: Int16 = -1, baseSequence: Int32 = -1, attributes extra: Int16 = 0
    ) throws -> [UInt8] {
        var encoder = RecordBatchEncoder(baseOffset: baseOffset, baseTimestamp: baseTimestamp, compression: codec)
        encoder.partitionLeaderEpoch = partitionLeaderEpoch
        encoder.producerId = producerId
        encoder.producerEpoch = producerEpoch
        encoder.baseSequence = baseSequence
        encoder.attributes = extra
        return try encoder.encode(records.map { record in
            RecordBatchEncoder.Record(
                key: record.key, value: record.value, timestampDelta: record.timestampDelta,
                headers: record.headers.map { DecodedRecord.Header(key: Array($0.0.utf8), value: $0.1) })
        })
    }

    static func int(_ value: Int64, _ size: Int, _ out: inout [UInt8]) {
        for index in (0..<size).reversed() { out.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }
}

/// Writes a segment as Apache Kafka's `LogSegment` does (3.7+): batches back to back in `<base>.log`; after
/// more than `indexInterval` bytes since the last entry, an offset index entry (batch last offset, position)
/// and a time index entry (max timestamp so far, its offset) when the timestamp grew; at roll a final time
/// index entry. Index files trimmed to their entries, as after a clean shutdown.
struct KafkaSegmentWriter {
    let directory: String
    let baseOffset: Int64
    var indexInterval = 256
    var log: [UInt8] = []
    var offsetIndex: [UInt8] = []
    var timeIndex: [UInt8] = []
    private var sinceEntry = 0
    private var maxTimestamp: Int64 = -1
    private var offsetOfMax: Int64 = -1
    private var lastIndexedTimestamp: Int64 = -1

    init(directory: String, baseOffset: Int64, indexInterval: Int = 256) {
        self.directory = directory
        self.baseOffset = baseOffset
        self.indexInterval = indexInterval
    }

    mutating func append(_ batch: [UInt8]) throws {
        let header = try batch.withUnsafeBytes { try RecordBatchHeader(parsing: $0, at: 0) }
        if header.maxTimestamp > maxTimestamp {
            maxTimestamp = header.maxTimestamp
            offsetOfMax = header.lastOffset
        }
        if sinceEntry > indexInterval {
            KafkaBatch.int(header.lastOffset - baseOffset, 4, &offsetIndex)
            KafkaBatch.int(Int64(log.count), 4, &offsetIndex)
            appendTimeEntry()
            sinceEntry = 0
        }
        sinceEntry += batch.count
        log += batch
    }

    private mutating func appendTimeEntry() {
        guard maxTimestamp > lastIndexedTimestamp else { return }
        KafkaBatch.int(maxTimestamp, 8, &timeIndex)
        KafkaBatch.int(offsetOfMax - baseOffset, 4, &timeIndex)
        lastIndexedTimestamp = maxTimestamp
    }

    /// Writes the three files (final time index entry included).
    mutating func write() throws {
        appendTimeEntry()
        try Data(log).write(to: URL(fileURLWithPath: path(".log")))
        try Data(offsetIndex).write(to: URL(fileURLWithPath: path(".index")))
        try Data(timeIndex).write(to: URL(fileURLWithPath: path(".timeindex")))
    }

    func path(_ suffix: String) -> String { directory + "/" + LogSegment.fileName(baseOffset, suffix: suffix) }
}

/// Byte-level damage to files.
enum Damager {
    static func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func modify(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = try read(path)
        change(&bytes)
        try write(bytes, path)
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }
}

/// A partition directory `<parent>/<topic>-<partition>` of `segments` Kafka-format segments holding
/// `batchesPerSegment` batches of 3 records each, codecs rotating through all five.
@discardableResult
func makeKafkaPartition(
    in parent: String, name: String = "orders-0", segments: Int = 3, batchesPerSegment: Int = 8
) throws -> (directory: String, logEnd: Int64) {
    let directory = parent + "/" + name
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var offset: Int64 = 0
    var batchNumber = 0
    for _ in 0..<segments {
        var writer = KafkaSegmentWriter(directory: directory, baseOffset: offset)
        for _ in 0..<batchesPerSegment {
            let records = (0..<3).map { index in
                FixtureRecord(key: Array("key-\(batchNumber)-\(index)".utf8),
                              value: Array(String(repeating: "value-\(batchNumber)-\(index) ", count: 4).utf8),
                              headers: [("h", Array("\(index)".utf8))], timestampDelta: Int64(index))
            }
            let codec = CompressionCodec.allCases[batchNumber % CompressionCodec.allCases.count]
            try writer.append(KafkaBatch.build(
                baseOffset: offset, records: records, codec: codec,
                baseTimestamp: 1_700_000_000_000 + Int64(batchNumber) * 10))
            offset += 3
            batchNumber += 1
        }
        try writer.write()
    }
    return (directory, offset)
}
