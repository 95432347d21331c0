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

    /// The compression codecs of the batches in `records` (attributes bits 0–2), reading headers only, up to
    /// the first batch whose length does not delimit it (the append's validation reports that one).
    static func codecs(in records: ByteBuffer) -> Set<Int> {
        var codecs = Set<Int>()
        var walk = RecordBatchSequence(records).makeIterator()
        while let batch = walk.next() {
            codecs.insert(batch.header.compressionCodec)
        }
        // The batch that stopped the walk still names its codec when its header is whole.
        if let header = walk.stop?.header, header.batchLength > 0 {
            codecs.insert(header.compressionCodec)
        }
        return codecs
    }
}
