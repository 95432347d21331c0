/// A bound on the bytes that decompression and record decoding may materialise while handling one request
/// (one produce partition, one down-converted fetch partition): every decompressed byte, and every decoded
/// record's in-memory size, is charged against it. When a charge does not fit, the work stops with
/// `recordTooLarge` before anything larger is allocated, so a decompression bomb (a few MB of gzip claiming
/// gigabytes) costs at most the limit.
///
/// The default for appends, `forAppend(maxMessageBytes:)`, is `max(16 × max.message.bytes, 64 MiB)`: compressed
/// batches are at most `max.message.bytes` on the wire, and real producer data rarely compresses better than
/// 10:1, while the limit keeps the memory of one request in the tens of MiB.
///
/// Thread-safety: a value type; pass it `inout` through the work of one request.
public struct DecompressionBudget: Sendable, Equatable {
    /// The lower bound of `forAppend(maxMessageBytes:)`, and the default budget of format conversion and
    /// recompression (`MessageFormatConverter`, `BatchRecompressor`) when the caller passes none: 64 MiB.
    public static let minimumAppendLimit = 64 << 20
    /// The factor of `max.message.bytes` in `forAppend(maxMessageBytes:)`.
    public static let appendFactor = 16
    /// What one decoded record costs beyond its key, value and header bytes (the `DecodedRecord` value, its
    /// arrays' headers and the array slot): charged so that many tiny records cannot outgrow the limit.
    public static let decodedRecordOverhead = 128

    /// The bytes the budget started with.
    public let limit: Int
    /// The bytes still available.
    public private(set) var remaining: Int

    /// A budget of `limit` bytes (negative limits count as 0).
    public init(limit: Int) {
        self.limit = max(0, limit)
        self.remaining = self.limit
    }

    /// The default budget for validating one append: `max(16 × maxMessageBytes, 64 MiB)` (saturating).
    public static func forAppend(maxMessageBytes: Int) -> DecompressionBudget {
        let (scaled, overflow) = max(0, maxMessageBytes).multipliedReportingOverflow(by: appendFactor)
        return DecompressionBudget(limit: max(overflow ? Int.max : scaled, minimumAppendLimit))
    }

    /// Whether `bytes` more fit.
    public func allows(_ bytes: Int) -> Bool { bytes >= 0 && bytes <= remaining }

    /// Takes `bytes` from the budget; throws `recordTooLarge` (and takes nothing) when they do not fit.
    public mutating func charge(_ bytes: Int, _ what: @autoclosure () -> String = "decoded records") throws {
        guard allows(bytes) else {
            throw LogEngineError(
                .recordTooLarge,
                "\(what()) exceed the decompression limit of \(limit) bytes (\(remaining) bytes left)")
        }
        remaining -= bytes
    }

    /// Decompresses `input` with `codec`, never producing more than the remaining budget, and charges the output.
    /// Throws `recordTooLarge` when the output would not fit and `corruptBatch` on malformed input.
    public mutating func decompress(
        _ codec: CompressionCodec, _ input: UnsafeRawBufferPointer, legacyLZ4HeaderChecksum: Bool = false
    ) throws -> [UInt8] {
        let plain = try codec.decompress(input, maxBytes: remaining, legacyLZ4HeaderChecksum: legacyLZ4HeaderChecksum)
        try charge(plain.count, "decompressed records")
        return plain
    }
}
