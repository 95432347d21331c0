/// Why and where a `RecordBatchSequence` walk stopped before the end of its bytes.
///
/// Thread-safety: a value type, freely shareable.
public struct RecordBatchStop: Error, Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// Fewer bytes than a batch header remain (a torn write).
        case truncatedHeader
        /// Every remaining byte is zero (preallocated or zero-filled after a crash); takes precedence over the
        /// other reasons.
        case zeroFilledTail
        /// The batch length is below that of a header without records (or negative).
        case badLength
        /// The batch length reaches past the end of the bytes.
        case truncatedBatch
        /// The magic byte is not 2 (checked from `.structure` on).
        case badMagic
        /// The record count and last offset delta disagree, or claim no record (`.structure`).
        case badRecordCount
        /// The compression codec bits name no codec (`.structure`).
        case unknownCodec
        /// The stored CRC-32C does not match the batch (`.checksum`).
        case crcMismatch
        /// The walk was asked to start outside the bytes.
        case outOfRange
    }

    public var reason: Reason
    /// Where the batch that failed starts.
    public var position: Int
    /// Its header, when at least a header's worth of bytes was there.
    public var header: RecordBatchHeader?
    /// The error a reader throws for it (`corruptBatch`, with the message `RecordBatchHeader`'s checks give).
    public var error: LogEngineError

    public init(_ reason: Reason, at position: Int, header: RecordBatchHeader?, _ error: LogEngineError) {
        self.reason = reason
        self.position = position
        self.header = header
        self.error = error
    }
}
