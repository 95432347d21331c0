import KafkaProtocol
import LogEngine
import NIOCore

extension ProduceHandler {
    /// The first request version whose records must be record batches v2.
    static let firstRecordBatchVersion: Int16 = 3

    /// The records of one partition as the log stores them. Versions 0–2 carry message format v0/v1 message
    /// sets, up-converted to one batch v2 (compression codec kept; batches v2 pass, as Kafka lets them);
    /// versions 3+ must carry batches v2, passed on untouched, and anything else is INVALID_RECORD, as in Kafka.
    /// `recordBatches(_:version:budget:)` with a budget of its own (`DecompressionBudget.minimumAppendLimit`).
    static func recordBatches(_ records: ByteBuffer, version: Int16) throws -> ByteBuffer {
        var budget = DecompressionBudget(limit: DecompressionBudget.minimumAppendLimit)
        return try recordBatches(records, version: version, budget: &budget)
    }

    /// Up-conversion decompresses within `budget` (the request's ``DecompressionBudget``): a decompression bomb
    /// is refused with MESSAGE_TOO_LARGE instead of inflating.
    static func recordBatches(
        _ records: ByteBuffer, version: Int16, budget: inout DecompressionBudget
    ) throws -> ByteBuffer {
        let magic = records.withUnsafeReadableBytes { MessageFormatConverter.magic(of: $0) }
        guard let magic else {
            throw LogEngineError(.corruptBatch, "record set of \(records.readableBytes) bytes is too short")
        }
        if version >= firstRecordBatchVersion {
            guard magic == RecordBatchHeader.currentMagic else {
                throw LogEngineError(
                    .invalidArgument, "produce v\(version) requires record batches v2, not magic \(magic)")
            }
            return records
        }
        if magic == RecordBatchHeader.currentMagic { return records }
        let converted = try records.withUnsafeReadableBytes { try MessageFormatConverter.upConvert($0, budget: &budget) }
        return ByteBuffer(bytes: converted)
    }
}
