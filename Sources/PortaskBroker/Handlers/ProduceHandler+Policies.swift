import KafkaProtocol
import LogEngine
import NIOCore

/// A produce-time policy refused a partition's batches.
struct PolicyViolation: Error {
    var code: KafkaErrorCode
    var message: String
}

/// Kafka's produce-time policies that depend on the request version and the topic's configs.
extension ProduceHandler {
    /// zstd batches need Produce v7 or later (KIP-110); older requests get UNSUPPORTED_COMPRESSION_TYPE.
    static let firstZstdVersion: Int16 = 7

    /// The error a batch set gets before it is appended, or `nil` to go on.
    func policyViolation(
        _ records: ByteBuffer, config: TopicConfig, acks: Int16, version: Int16
    ) -> (KafkaErrorCode, String)? {
        if acks == -1 && config.minInsyncReplicas > 1 {
            return (.notEnoughReplicas,
                    "min.insync.replicas is \(config.minInsyncReplicas) but this broker is the partition's only replica")
        }
        if version < Self.firstZstdVersion && Self.codecs(in: records).contains(CompressionCodec.zstd.rawValue) {
            return (.unsupportedCompressionType, "zstd batches need Produce v\(Self.firstZstdVersion) or later")
        }
        return nil
    }

    /// The compression codecs of the batches in `records` (attributes bits 0–2), reading headers only.
    static func codecs(in records: ByteBuffer) -> Set<Int> {
        var codecs = Set<Int>()
        var offset = records.readerIndex
        let end = records.writerIndex
        while offset + RecordBatchHeader.size <= end,
            let length = records.getInteger(at: offset + 8, as: Int32.self),
            let attributes = records.getInteger(at: offset + 21, as: Int16.self), length > 0
        {
            codecs.insert(Int(attributes & 0x07))
            offset += Int(length) + RecordBatchHeader.logOverhead
        }
        return codecs
    }
}
