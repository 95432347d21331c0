import KafkaProtocol
import LogEngine
import NIOCore

extension FetchHandler {
    /// The first request version that returns record batches v2.
    static let firstRecordBatchVersion: Int16 = 4

    /// The message format a fetch version returns: v0 for Fetch v0–v1, v1 for v2–v3.
    static func messageFormat(forVersion version: Int16) -> Int8 {
        version <= 1 ? 0 : 1
    }

    /// The partition's records down-converted to the request version's message format: the batches of the
    /// slice decompressed and re-encoded as uncompressed messages from the fetch offset on, at most the
    /// partition's byte limit (at least one message). When a slice yields no message (control batches only),
    /// the following batches up to the high watermark are read, so an old consumer never stalls. A stored batch
    /// that cannot be decoded becomes the partition's error (CORRUPT_MESSAGE) with no records.
    ///
    /// Decompression is charged to `budget`, shared by every partition of the response: once earlier partitions
    /// have used it up, a partition answers no records and no error (the consumer fetches it again).
    func downConvert(
        _ result: PartitionResult, into partition: inout FetchResponse.PartitionData, version: Int16,
        budget: inout DecompressionBudget
    ) {
        let fresh = budget.remaining == budget.limit
        do {
            partition.records = try downConverted(result, version: version, budget: &budget)
        } catch let error as LogEngineError where error.code == .recordTooLarge && !fresh {
            partition.records = RecordSet(bytes: ByteBuffer())
        } catch {
            partition.errorCode = KafkaErrorCode(error).rawValue
            partition.records = RecordSet(bytes: ByteBuffer())
        }
    }

    private func downConverted(
        _ result: PartitionResult, version: Int16, budget: inout DecompressionBudget
    ) throws -> RecordSet {
        guard var slice = result.slice, let log = result.log else { return RecordSet(bytes: ByteBuffer()) }
        let magic = Self.messageFormat(forVersion: version)
        var fromOffset = result.fetchOffset
        while true {
            let converted = try slice.withUnsafeBytes {
                try MessageFormatConverter.downConvert(
                    $0, toMagic: magic, fromOffset: fromOffset, maxBytes: max(result.limit, 1), budget: &budget)
            }
            if !converted.bytes.isEmpty { return RecordSet(bytes: ByteBuffer(bytes: converted.bytes)) }
            fromOffset = max(converted.nextOffset, slice.nextOffset)
            guard fromOffset < result.response.highWatermark,
                let next = try log.read(
                    from: fromOffset, maxBytes: max(result.limit, 1), upperBound: result.response.highWatermark)
            else { return RecordSet(bytes: ByteBuffer()) }
            slice = next
        }
    }
}
