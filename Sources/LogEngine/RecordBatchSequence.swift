import NIOCore

/// The record batches v2 laid end to end in a byte range (a segment mapping, a produce request's records, a fetch
/// slice), walked forward from a start position: Kafka's `FileRecords.batchesFrom` / `RecordBatchIterator`.
///
/// Format: each batch is `baseOffset int64, batchLength int32, <batchLength bytes>` (see `RecordBatchHeader` for
/// the 61-byte header). A batch is yielded only when its header is whole and its `batchLength` delimits it inside
/// the bytes (`batchLength >= RecordBatchHeader.minimumBatchLength` and the batch ends at or before the end), plus
/// what `check` asks for. The walk stops at the first batch that fails: the iterator's `stop` then says why and
/// where (`RecordBatchStop`), with the header when one could be read. A walk that ends exactly at the end of the
/// bytes has no `stop`. Every position is computed with overflow checks: header values never trap.
///
/// Thread-safety: a value type. The walk reads the bytes and never writes them; the caller keeps the memory
/// alive and unchanged in the fields the walk reads (the base offset and the CRC-covered bytes of a batch
/// already yielded may be rewritten) for as long as it iterates. A `ByteBuffer` is walked over its readable
/// bytes, positions relative to its reader index.
public struct RecordBatchSequence: Sequence {
    /// How much of each batch is checked before it is yielded.
    public enum Check: Int, Sendable, Comparable {
        /// The header is whole and the batch length delimits the batch: all a walk needs to move on.
        case framing
        /// Also `RecordBatchHeader`'s structure checks for stored batches: magic 2, a record count from 0 to the
        /// last offset delta + 1 (compaction removes records but keeps offset ranges), a known compression codec.
        case structure
        /// Also the CRC-32C of the batch.
        case checksum

        public static func < (lhs: Check, rhs: Check) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// One batch: where it starts and its header. `end` is where the next batch starts.
    public struct Element: Sendable, Equatable {
        public var position: Int
        public var header: RecordBatchHeader
        /// The position after the batch (`position + header.totalSize`, known not to overflow).
        public var end: Int
    }

    enum Storage {
        case raw(UnsafeRawBufferPointer)
        case buffer(ByteBuffer)
    }

    let storage: Storage
    let start: Int
    let check: Check

    /// The batches in `bytes` from `start` (0 by default).
    public init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, check: Check = .framing) {
        storage = .raw(bytes)
        self.start = start
        self.check = check
    }

    /// The batches in the readable bytes of `buffer`, positions relative to its reader index.
    public init(_ buffer: ByteBuffer, from start: Int = 0, check: Check = .framing) {
        storage = .buffer(buffer)
        self.start = start
        self.check = check
    }

    public func makeIterator() -> RecordBatchIterator {
        RecordBatchIterator(storage: storage, position: start, check: check)
    }

    /// The header at `position` with no other check, or nil when fewer than `RecordBatchHeader.size` bytes are
    /// there: for readers of a single batch known to be whole (the first batch of a fetch slice, of a segment).
    public static func header(in bytes: UnsafeRawBufferPointer, at position: Int) -> RecordBatchHeader? {
        try? RecordBatchHeader(parsing: bytes, at: position)
    }

    /// The next step of a walk of `bytes` at `position`: the batch there, or why the walk stops.
    static func step(
        _ bytes: UnsafeRawBufferPointer, at position: Int, check: Check
    ) -> Result<Element, RecordBatchStop>? {
        guard position >= 0, position <= bytes.count else {
            return .failure(RecordBatchStop(
                .outOfRange, at: position, header: nil,
                LogEngineError(.invalidArgument, "position \(position) outside \(bytes.count) bytes")))
        }
        let remaining = bytes.count - position
        if remaining == 0 { return nil }
        guard let header = try? RecordBatchHeader(parsing: bytes, at: position) else {
            return .failure(stop(
                .truncatedHeader, bytes, at: position, header: nil,
                LogEngineError(.corruptBatch, "truncated batch header", context: "position \(position)")))
        }
        let lengthError = LogEngineError(
            .corruptBatch, "batch length \(header.batchLength) out of bounds (\(remaining) bytes available)",
            context: "position \(position)")
        if check >= .structure && header.magic != RecordBatchHeader.currentMagic {
            return .failure(stop(
                .badMagic, bytes, at: position, header: header,
                LogEngineError(.corruptBatch, "unsupported magic \(header.magic)", context: "position \(position)")))
        }
        if header.batchLength < RecordBatchHeader.minimumBatchLength {
            return .failure(stop(.badLength, bytes, at: position, header: header, lengthError))
        }
        // batchLength is a positive Int32 here: the sum cannot overflow Int, but check anyway.
        let (size, sizeOverflow) = Int(header.batchLength).addingReportingOverflow(RecordBatchHeader.logOverhead)
        let (end, endOverflow) = position.addingReportingOverflow(size)
        if sizeOverflow || endOverflow || end > bytes.count {
            return .failure(stop(.truncatedBatch, bytes, at: position, header: header, lengthError))
        }
        if check >= .structure {
            do {
                try header.validateStructure(available: remaining, at: position, stored: true)
            } catch {
                let reason: RecordBatchStop.Reason = header.compressionCodec > 4
                    && header.recordCount > 0 && header.lastOffsetDelta >= 0
                    && Int64(header.lastOffsetDelta) + 1 == Int64(header.recordCount) ? .unknownCodec : .badRecordCount
                return .failure(stop(
                    reason, bytes, at: position, header: header,
                    error as? LogEngineError ?? LogEngineError(.corruptBatch, "\(error)")))
            }
        }
        if check >= .checksum {
            let computed = RecordBatchHeader.computeCRC(in: bytes, at: position, totalSize: size)
            if computed != header.crc {
                return .failure(stop(
                    .crcMismatch, bytes, at: position, header: header,
                    LogEngineError(
                        .corruptBatch, "CRC mismatch: stored \(header.crc), computed \(computed)",
                        context: "position \(position)")))
            }
        }
        return .success(Element(position: position, header: header, end: end))
    }

    /// A stop, named `zeroFilledTail` instead when every byte from `position` on is zero.
    private static func stop(
        _ reason: RecordBatchStop.Reason, _ bytes: UnsafeRawBufferPointer, at position: Int,
        header: RecordBatchHeader?, _ error: LogEngineError
    ) -> RecordBatchStop {
        let zeros = bytes[position...].allSatisfy { $0 == 0 }
        return RecordBatchStop(zeros ? .zeroFilledTail : reason, at: position, header: header, error)
    }
}
