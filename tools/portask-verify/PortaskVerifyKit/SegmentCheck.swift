#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LogEngine

/// Checks every record batch of one `.log` file, in file order, with LogEngine's batch validation
/// (`RecordBatchHeader.validate`: magic, length bounds, record count against `lastOffsetDelta`, codec, CRC-32C),
/// plus offsets strictly increasing from the segment's base offset, 32-bit relative offsets and sane timestamps.
/// With `deep`, every batch's records are decoded (decompressing) and compared with the header.
///
/// Scanning continues past a batch whose CRC or counts are wrong but whose length is sane (so later batches are
/// still checked and counted); it stops at damage that hides where the next batch starts (bad magic or length,
/// torn or zero-filled tail). `validBytes` is what LogEngine recovery would keep: the bytes before the first
/// damage it detects.
///
/// Thread-safety: a value type; `run` reads the file through a private read-only mapping.
struct SegmentCheck {
    /// One scanned batch (structure valid, so its position and size are trustworthy).
    struct Batch {
        var position: Int
        var size: Int
        var baseOffset: Int64
        var lastOffset: Int64
        var maxTimestamp: Int64
        var leaderEpoch: Int32 = -1
    }

    let path: String
    /// From the file name; nil when the name is not 20 digits (then the first batch's base offset is used).
    let baseOffset: Int64?
    let deep: Bool

    var batches: [Batch] = []
    var damage: [Damage] = []
    var warnings: [Warning] = []
    private var warnedFutureTimestamp = false
    var records: Int64 = 0
    var fileSize = 0
    /// Bytes before the first damage recovery truncates at.
    var validBytes = 0
    /// The offset after the last batch within `validBytes` (the log end recovery would keep), or nil when
    /// there is no such batch.
    var validNextOffset: Int64?

    init(path: String, baseOffset: Int64?, deep: Bool) {
        self.path = path
        self.baseOffset = baseOffset
        self.deep = deep
    }

    /// The segment's base offset: the file name's, else the first batch's, else 0.
    var effectiveBaseOffset: Int64 { baseOffset ?? batches.first?.baseOffset ?? 0 }
    var lastOffset: Int64? { batches.last?.lastOffset }

    mutating func run(progress: ((Int) -> Void)? = nil) throws {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        fileSize = bytes.count
        var nextOffset = baseOffset ?? Int64.min
        var truncateAt: Int? = nil
        var lastReported = 0
        // Batches are yielded when their length delimits them; what stops the walk is reported after the loop.
        var walk = RecordBatchSequence(bytes).makeIterator()
        while let batch = walk.next() {
            let (position, header) = (batch.position, batch.header)
            if position - lastReported >= 1 << 22 {
                progress?(position - lastReported)
                lastReported = position
            }
            let remaining = bytes.count - position
            if !header.hasStorableBaseOffset {
                report(.offsetOverflow, position, header.baseOffset, "base offset \(header.baseOffset) out of range")
                truncateAt = truncateAt ?? position
                break
            }
            var batchIsValid = true
            do {
                // Stored-batch rules: compaction leaves batches with fewer records than their offset range, or none.
                try header.validateStored(in: bytes, at: position)
            } catch {
                let (kind, fatal) = Self.classify(header, remaining: remaining)
                report(kind, position, header.baseOffset, Self.describe(error, kind: kind, header: header, remaining: remaining))
                truncateAt = truncateAt ?? position
                if fatal { break }
                batchIsValid = false
            }
            if header.baseOffset < nextOffset {
                let what = batches.isEmpty
                    ? "below the segment's base offset \(nextOffset)"
                    : "not above the previous batch's last offset \(nextOffset - 1)"
                report(.offsetsBackwards, position, header.baseOffset, "base offset \(header.baseOffset) \(what)")
                truncateAt = truncateAt ?? position
                batchIsValid = false
            }
            if let base = baseOffset, header.lastOffset - base > Int64(Int32.max) {
                report(.offsetOverflow, position, header.baseOffset,
                       "last offset \(header.lastOffset) is more than 2^31-1 above the segment base \(base)")
                truncateAt = truncateAt ?? position
                batchIsValid = false
            }
            checkTimestamps(header, at: position)
            if deep && batchIsValid && header.recordCount > 0 { checkRecords(header, in: bytes, at: position) }
            batches.append(Batch(position: position, size: header.totalSize, baseOffset: header.baseOffset,
                                 lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp,
                                 leaderEpoch: header.partitionLeaderEpoch))
            records += Int64(header.recordCount)
            if truncateAt == nil { validNextOffset = header.nextOffset }
            nextOffset = max(nextOffset, header.nextOffset)
        }
        if let stop = walk.stop {
            reportStop(stop, in: bytes)
            truncateAt = truncateAt ?? stop.position
        }
        progress?(bytes.count - lastReported)
        validBytes = truncateAt ?? bytes.count
    }

    /// Reports the tail that stopped the walk: zeros, a torn header, or a batch its length does not delimit.
    private mutating func reportStop(_ stop: RecordBatchStop, in bytes: UnsafeRawBufferPointer) {
        let (position, remaining) = (stop.position, bytes.count - stop.position)
        guard stop.reason != .zeroFilledTail else {
            report(.zeroFilledTail, position, nil, "\(remaining) zero bytes after the last batch")
            return
        }
        guard let header = stop.header else {
            report(.tornTail, position, nil, "\(remaining) bytes after the last batch, less than a batch header")
            return
        }
        if !header.hasStorableBaseOffset {
            report(.offsetOverflow, position, header.baseOffset, "base offset \(header.baseOffset) out of range")
            return
        }
        var error: Error = stop.error
        do { try header.validate(in: bytes, at: position) } catch let thrown { error = thrown }
        let (kind, _) = Self.classify(header, remaining: remaining)
        report(kind, position, header.baseOffset, Self.describe(error, kind: kind, header: header, remaining: remaining))
    }

    private mutating func report(_ kind: Damage.Kind, _ position: Int, _ offset: Int64?, _ message: String) {
        damage.append(Damage(kind, file: path, position: position, offset: offset, message))
    }

    /// The largest base offset handled: offset arithmetic (base + deltas up to 2^31) must not overflow.
    static let maxBaseOffset = Int64.max - (Int64(1) << 32)

    /// A base offset from 20 decimal digits (file names); nil for anything else or out of range.
    static func parseBaseOffset(_ digits: Substring) -> Int64? {
        guard digits.utf8.count == 20, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let value = Int64(digits), value <= maxBaseOffset
        else { return nil }
        return value
    }

    /// A batch with no records, only a header, and a correct CRC: Kafka's cleaner keeps such batches to
    /// preserve an idempotent producer's last sequence (`DefaultRecordBatch.writeEmptyHeader`).
    static func isKafkaEmptyBatch(_ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int) -> Bool {
        header.magic == RecordBatchHeader.currentMagic && header.recordCount == 0 && header.lastOffsetDelta >= 0
            && header.totalSize == RecordBatchHeader.size && bytes.count - position >= RecordBatchHeader.size
            && RecordBatchHeader.computeCRC(in: bytes, at: position, totalSize: header.totalSize) == header.crc
    }

    /// Names what `RecordBatchHeader.validate` rejected, and whether the scan must stop there.
    static func classify(_ header: RecordBatchHeader, remaining: Int) -> (Damage.Kind, fatal: Bool) {
        if header.magic != RecordBatchHeader.currentMagic { return (.badMagic, true) }
        if header.batchLength < RecordBatchHeader.minimumBatchLength { return (.badLength, true) }
        if header.totalSize > remaining { return (.tornTail, true) }
        if header.recordCount < 0 || header.lastOffsetDelta < 0
            || Int64(header.recordCount) > Int64(header.lastOffsetDelta) + 1
        {
            return (.recordCountMismatch, false)
        }
        if header.compressionCodec > 4 { return (.unknownCodec, false) }
        return (.crcMismatch, false)
    }

    static func describe(_ error: Error, kind: Damage.Kind, header: RecordBatchHeader, remaining: Int) -> String {
        if kind == .tornTail {
            return "batch of \(header.totalSize) bytes cut off after \(remaining) bytes"
        }
        if let error = error as? LogEngineError { return error.message }
        return "\(error)"
    }

    private mutating func checkTimestamps(_ header: RecordBatchHeader, at position: Int) {
        if header.maxTimestamp < -1 || header.baseTimestamp < -1 {
            report(.badTimestamp, position, header.baseOffset,
                   "timestamps below -1 (base \(header.baseTimestamp), max \(header.maxTimestamp))")
        } else if !header.isLogAppendTime, header.deleteHorizonMs == nil, header.baseTimestamp >= 0,
                  header.maxTimestamp < header.baseTimestamp
        {
            // (With a delete horizon, KIP-534, the base timestamp is the horizon, usually after the records.)
            report(.badTimestamp, position, header.baseOffset,
                   "max timestamp \(header.maxTimestamp) below base timestamp \(header.baseTimestamp)")
        } else if !warnedFutureTimestamp, header.maxTimestamp > Self.futureLimitMs {
            warnedFutureTimestamp = true
            warnings.append(Warning(file: path, "batch at \(position) has max timestamp \(header.maxTimestamp), more "
                                        + "than a day in the future (reported once per segment)"))
        }
    }

    /// Now plus one day, in ms since the epoch: newer batch timestamps are worth a warning (not damage: Kafka
    /// accepts them unless `message.timestamp.after.max.ms` says otherwise).
    static let futureLimitMs: Int64 = {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + 86_400_000
    }()

    /// `--deep`: decodes the records (decompressing) and checks them against the header.
    private mutating func checkRecords(_ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int) {
        let decoded: [DecodedRecord]
        do {
            decoded = try header.decodeRecords(in: bytes, at: position)
        } catch {
            report(.badRecords, position, header.baseOffset, "records do not decode: \(error)")
            return
        }
        if decoded.count != Int(header.recordCount) {
            report(.badRecords, position, header.baseOffset,
                   "\(decoded.count) records decoded, header says \(header.recordCount)")
            return
        }
        var previous = header.baseOffset - 1
        for record in decoded {
            if record.offset <= previous || record.offset > header.lastOffset {
                report(.badRecords, position, record.offset,
                       "record offset \(record.offset) out of order or outside \(header.baseOffset)...\(header.lastOffset)")
                return
            }
            previous = record.offset
        }
        // A compacted batch keeps its offset range while records were removed from its end.
        let thinned = Int64(header.recordCount) < Int64(header.lastOffsetDelta) + 1
        if previous != header.lastOffset && !thinned {
            report(.badRecords, position, header.baseOffset,
                   "last record offset \(previous) differs from the header's \(header.lastOffset)")
        }
        if !header.isLogAppendTime, header.baseTimestamp >= 0,
           let newest = decoded.map(\.timestamp).max(), newest != header.maxTimestamp {
            report(.badTimestamp, position, header.baseOffset,
                   "newest record timestamp \(newest) differs from the batch's max timestamp \(header.maxTimestamp)")
        }
    }

    static func allZero(_ bytes: UnsafeRawBufferPointer, from position: Int) -> Bool {
        // Cheap rejection first: most tails are not zero.
        if position < bytes.count, bytes[position] != 0 { return false }
        var index = position
        while index < bytes.count {
            if bytes[index] != 0 { return false }
            index += 1
        }
        return true
    }

    /// The index of the batch starting at `position`, or nil (binary search; batches are in file order).
    func batchIndex(startingAt position: Int) -> Int? {
        var low = 0
        var high = batches.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = batches[middle].position
            if candidate == position { return middle }
            if candidate < position { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}
