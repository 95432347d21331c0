/// One piece of damage found in a data directory, partition directory or segment file: what kind, where, and
/// whether `--repair` (LogEngine's recovery) can fix it. Any damage makes the verifier exit with status 1,
/// except damage the broker repairs by itself on start without losing data (`repairedOnStart`: zero-filled
/// tails of preallocated indexes, zeros after the last batch of a partition's last segment), which every unclean
/// stop leaves behind: the report lists those as `notes`, not as `damage`.
///
/// JSON form: `{"kind": "crcMismatch", "file": "...", "position": 4096, "offset": 17, "message": "...",
/// "repairable": true, "repairedOnStart": false}` (`position`: byte position in the file; `offset`: the record
/// offset concerned).
///
/// Thread-safety: a value type.
public struct Damage: Sendable, Equatable, Codable {
    /// The kinds of damage, by the name used in the JSON report.
    public enum Kind: String, Sendable, Codable, CaseIterable {
        // Record batches in `.log` files.
        /// The stored CRC-32C does not match the batch bytes (a flipped byte).
        case crcMismatch
        /// The magic byte is not 2 (record batch v2).
        case badMagic
        /// `batchLength` is below the size of a batch header.
        case badLength
        /// `recordCount` is negative or above `lastOffsetDelta + 1` (compaction may leave fewer records, or none).
        case recordCountMismatch
        /// Compression bits name no codec.
        case unknownCodec
        /// The file ends inside a batch (an interrupted write).
        case tornTail
        /// The file ends in zeros where a batch should start (preallocated or zero-filled after a crash).
        case zeroFilledTail
        /// A batch's base offset is not above the previous batch's last offset, or below the segment's base.
        case offsetsBackwards
        /// A segment holds offsets at or above the next segment's base offset.
        case segmentOverlap
        /// A batch's last offset does not fit the segment's 32-bit relative offsets.
        case offsetOverflow
        /// A batch's timestamps are impossible (max below base under CreateTime, below -1).
        case badTimestamp
        /// Record-level decoding failed or disagrees with the batch header (`--deep`).
        case badRecords
        // Index files.
        /// An index file's size is not a multiple of its entry size.
        case indexSizeInvalid
        /// An offset or time index ends in zero entries: preallocated by a broker that did not shut down cleanly.
        case indexZeroFilled
        /// Offset index entries are not strictly increasing in offset and position.
        case indexNotMonotonic
        /// An offset index entry points at or past the end of the `.log` file.
        case indexEntryPastEnd
        /// An offset index entry points inside a batch rather than at its start.
        case indexEntryMidBatch
        /// An offset index entry's offset does not belong with the batch it points at.
        case indexEntryWrongOffset
        /// Time index timestamps not strictly increasing or offsets decreasing.
        case timeIndexNotMonotonic
        /// A time index entry's offset lies outside the segment's batches.
        case timeIndexEntryPastEnd
        /// A time index entry's offset falls in a gap between batches.
        case timeIndexEntryNotInBatch
        /// A time index entry's timestamp is newer than any batch up to its offset.
        case timeIndexTimestampMismatch
        /// A `.txnindex` entry is malformed, out of order or outside the segment (Kafka's aborted transactions).
        case txnIndexInvalid
        // Files of the partition and data directory.
        /// A checkpoint file does not parse.
        case badCheckpoint
        /// A checkpointed offset (recovery point, log start, high watermark) lies beyond the log end.
        case checkpointBeyondLogEnd
        /// A producer state snapshot (`.snapshot`) fails its version, size or CRC check.
        case badProducerSnapshot
        /// `meta.properties` lacks its required fields.
        case badMetaProperties
    }

    public var kind: Kind
    public var file: String
    public var position: Int?
    public var offset: Int64?
    public var message: String
    public var repairable: Bool
    /// Whether the broker repairs this by itself when it starts, losing no batch (then it is a note, not damage).
    public var repairedOnStart: Bool

    public init(_ kind: Kind, file: String, position: Int? = nil, offset: Int64? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.position = position
        self.offset = offset
        self.message = message
        self.repairable = kind.isRepairable
        self.repairedOnStart = kind == .indexZeroFilled
    }
}

extension Damage.Kind {
    /// Whether LogEngine's recovery fixes this kind: it truncates a log at its first invalid batch (bad
    /// structure, CRC, offsets going backwards), rebuilds indexes and rewrites checkpoints. Timestamps, overlaps
    /// between segments, record contents and Kafka's `.txnindex` are beyond what recovery checks.
    public var isRepairable: Bool {
        switch self {
        case .segmentOverlap, .badTimestamp, .badRecords, .badMetaProperties, .txnIndexInvalid: false
        default: true
        }
    }
}
