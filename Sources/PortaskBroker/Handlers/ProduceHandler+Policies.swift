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
        _ records: ByteBuffer, configs: [String: String], acks: Int16, version: Int16
    ) -> (KafkaErrorCode, String)? {
        if acks == -1 {
            let minimum = Int(configs["min.insync.replicas"] ?? topics.config.properties["min.insync.replicas"] ?? "1") ?? 1
            if minimum > 1 {
                return (.notEnoughReplicas,
                        "min.insync.replicas is \(minimum) but this broker is the partition's only replica")
            }
        }
        if version < Self.firstZstdVersion && Self.codecs(in: records).contains(CompressionCodec.zstd.rawValue) {
            return (.unsupportedCompressionType, "zstd batches need Produce v\(Self.firstZstdVersion) or later")
        }
        return nil
    }

    /// The topic's `compression.type` (from its config overrides `configs`, else the broker's) as a codec to
    /// store with, or `nil` for `producer` (keep the producer's).
    func targetCodec(configs: [String: String]) -> CompressionCodec? {
        let configured = configs["compression.type"]
            ?? topics.config.properties["compression.type"] ?? "producer"
        switch configured.trimmingWhitespace() {
        case "uncompressed": return CompressionCodec.none
        case "gzip": return .gzip
        case "snappy": return .snappy
        case "lz4": return .lz4
        case "zstd": return .zstd
        default: return nil
        }
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
