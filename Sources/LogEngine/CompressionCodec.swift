/// Kafka's compression codecs, as numbered in the attributes of record batches and messages (bits 0-2).
///
/// `decompress` and `compress` speak the byte formats Kafka clients write and read:
/// - gzip: RFC 1952 gzip streams (zlib); concatenated members are read too.
/// - snappy: the xerial framing Java clients write (`\x82SNAPPY\0`, version, compatible version, then
///   length-prefixed raw blocks) and plain raw snappy as librdkafka writes it; `compress` writes xerial framing,
///   which every client reads.
/// - lz4: the LZ4 frame format (Kafka's `KafkaLZ4BlockOutputStream`); `legacyLZ4HeaderChecksum` accepts the
///   broken header checksum of message format v0.
/// - zstd: zstd frames, with or without a content size.
///
/// Thread-safety: stateless; every call allocates its own compression context.
public enum CompressionCodec: Int, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case gzip = 1
    case snappy = 2
    case lz4 = 3
    case zstd = 4

    /// The default bound on decompressed sizes: a guard against decompression bombs.
    public static let defaultMaxDecompressedBytes = 256 << 20

    public var description: String {
        switch self {
        case .none: "none"
        case .gzip: "gzip"
        case .snappy: "snappy"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// The codec numbered `attributes & 0x07`; throws `corruptBatch` for unknown numbers.
    public init(attributes: Int) throws {
        guard let codec = CompressionCodec(rawValue: attributes & 0x07) else {
            throw LogEngineError(.corruptBatch, "unknown compression codec \(attributes & 0x07)")
        }
        self = codec
    }

    /// Decompresses `input`. Throws `corruptBatch` on malformed input and `recordTooLarge` when the output would
    /// exceed `maxBytes`.
    public func decompress(
        _ input: UnsafeRawBufferPointer, maxBytes: Int = defaultMaxDecompressedBytes,
        legacyLZ4HeaderChecksum: Bool = false
    ) throws -> [UInt8] {
        switch self {
        case .none:
            try Self.checkLimit(input.count, maxBytes, self)
            return Array(input)
        case .gzip: return try Self.gunzip(input, maxBytes: maxBytes)
        case .snappy: return try Self.unsnappy(input, maxBytes: maxBytes)
        case .lz4: return try Self.unlz4(input, maxBytes: maxBytes, legacyHeaderChecksum: legacyLZ4HeaderChecksum)
        case .zstd: return try Self.unzstd(input, maxBytes: maxBytes)
        }
    }

    /// Convenience over `decompress(_:maxBytes:legacyLZ4HeaderChecksum:)` for arrays.
    public func decompress(_ input: [UInt8], maxBytes: Int = defaultMaxDecompressedBytes) throws -> [UInt8] {
        try input.withUnsafeBytes { try decompress($0, maxBytes: maxBytes) }
    }

    /// Compresses `input` in the format described above.
    public func compress(_ input: UnsafeRawBufferPointer) throws -> [UInt8] {
        switch self {
        case .none: return Array(input)
        case .gzip: return try Self.gzip(input)
        case .snappy: return try Self.snappy(input)
        case .lz4: return try Self.lz4(input)
        case .zstd: return try Self.zstd(input)
        }
    }

    /// Convenience over `compress(_:)` for arrays.
    public func compress(_ input: [UInt8]) throws -> [UInt8] {
        try input.withUnsafeBytes { try compress($0) }
    }

    static func failure(_ codec: CompressionCodec, _ message: String) -> LogEngineError {
        LogEngineError(.corruptBatch, "\(codec): \(message)")
    }

    /// Throws `recordTooLarge` when `size` decompressed bytes exceed `maxBytes` (a decompression bomb or a budget
    /// exhausted), as opposed to `corruptBatch` for malformed input.
    static func checkLimit(_ size: Int, _ maxBytes: Int, _ codec: CompressionCodec) throws {
        if size > maxBytes {
            throw LogEngineError(.recordTooLarge, "\(codec): decompressed size exceeds \(maxBytes) bytes")
        }
    }
}
