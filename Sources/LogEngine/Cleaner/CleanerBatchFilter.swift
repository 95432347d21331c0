/// Rewrites one stored batch as a cleaning round keeps it (Kafka's `MemoryRecords.filterTo` with the cleaner's
/// filter): the decisions come from `CleanerRetention`; this type only applies them to bytes.
///
/// - every record kept and no delete horizon to set: the batch is copied unchanged;
/// - no record kept: the batch is dropped, or written as an empty batch (header only, no codec, base and max
///   timestamp the batch's max timestamp, same offsets, producer fields and flags) when retention says
///   `retainEmpty`;
/// - otherwise the kept records are written into a batch with every header field kept (base offset, last offset
///   delta, producer id, epoch, base sequence, leader epoch, timestamp type, transactional and control bits) and
///   the records section re-encoded with the batch's own codec. When a kept record is a tombstone and the batch
///   has no delete horizon yet, the horizon (now + `delete.retention.ms`) becomes the base timestamp, attribute
///   bit 6 is set and the records' timestamp deltas are re-based on it (KIP-534); the same happens to a
///   transaction marker that guards no batch any more.
///
/// Thread-safety: stateless.
enum CleanerBatchFilter {
    enum Outcome {
        case keep
        case drop
        case rewritten([UInt8])
    }

    struct Counts {
        var recordsRead = 0
        var recordsRetained = 0
        /// Keyless records removed.
        var keylessRemoved = 0
    }

    /// The outcome for the batch at `position`. `verdict`: the flags of the newest-first mapping walk holding this
    /// (data) batch, if any; its records' fate then comes from there, and a batch whose records all go, or all stay
    /// with no tombstone among them, is decided without reading its records.
    static func filter(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int, retention: CleanerRetention,
        verdict: CleanerOffsetFlags? = nil, transactions: CleanerTransactions, deleteRetentionMs: Int64,
        maxDecompressedBytes: Int, counts: inout Counts
    ) throws -> Outcome {
        let canDiscardBatch: Bool
        if header.isControl {
            canDiscardBatch = transactions.onControlBatch(
                header, marker: ControlRecord.parse(header, in: bytes, at: position), isEmpty: header.recordCount <= 0)
        } else {
            canDiscardBatch = transactions.onDataBatch(header)
        }
        let (decision, discardRecords, removableMarker) = retention.batchRetention(
            header, canDiscardBatch: canDiscardBatch)
        // The records' fate comes from the mapping walk's verdict unless the batch goes whole.
        let decided = discardRecords ? nil : verdict
        if let decided {
            let flagged = decided.counts(header.baseOffset, header.lastOffset)
            counts.recordsRead += flagged.present
            if flagged.latest == 0 {
                return decision == .retainEmpty ? .rewritten(try emptyBatch(like: header)) : .drop
            }
            if flagged.latest == flagged.present && flagged.latestTombstones == 0 {
                counts.recordsRetained += flagged.present
                return .keep
            }
        }
        var kept: [CleanerRecords.Record] = []
        var total = 0
        var containsTombstone = false
        let outcome: Outcome? = try CleanerRecords.withSection(
            header, in: bytes, at: position, maxDecompressedBytes: maxDecompressedBytes
        ) { section -> Outcome? in
            try CleanerRecords.walk(section, header) { record in
                total += 1
                let retained: Bool
                if discardRecords {
                    retained = false
                } else if header.isControl {
                    retained = true
                } else if let decided {
                    // Keyless records were counted by the mapping walk.
                    retained = record.key != nil && retention.retainsRecord(
                        header, isLatest: decided.isLatest(header.baseOffset &+ record.offsetDelta),
                        hasValue: record.hasValue)
                } else {
                    let key = record.key.map { KeyHash($0) }
                    retained = retention.retainsRecord(
                        header, offset: header.baseOffset &+ record.offsetDelta, key: key, hasValue: record.hasValue)
                    if key == nil && !retained { counts.keylessRemoved += 1 }
                }
                if retained {
                    kept.append(record)
                    if !record.hasValue && !header.isControl { containsTombstone = true }
                }
            }
            if decided == nil { counts.recordsRead += total }  // else counted from the verdict above
            counts.recordsRetained += kept.count
            if kept.isEmpty {
                return decision == .retainEmpty ? .rewritten(try emptyBatch(like: header)) : .drop
            }
            let needsHorizon = (containsTombstone || removableMarker) && header.deleteHorizonMs == nil
            if kept.count == total && !needsHorizon { return .keep }
            let horizon = needsHorizon ? retention.nowMs.saturatingAdd(deleteRetentionMs) : nil
            return .rewritten(try rebuild(header, section: section, kept: kept, horizon: horizon))
        }
        return outcome ?? .keep
    }

    /// A header-only batch with the offsets, producer fields and flags of `header` (Kafka's `writeEmptyHeader`).
    static func emptyBatch(like header: RecordBatchHeader) throws -> [UInt8] {
        var encoder = RecordBatchEncoder(
            baseOffset: header.baseOffset, baseTimestamp: header.maxTimestamp, compression: .none)
        encoder.partitionLeaderEpoch = header.partitionLeaderEpoch
        encoder.attributes = header.attributes & (RecordBatchHeader.timestampTypeBit | 0x30)
        encoder.producerId = header.producerId
        encoder.producerEpoch = header.producerEpoch
        encoder.baseSequence = header.baseSequence
        return try encoder.encode(
            section: [], recordCount: 0, maxTimestamp: header.maxTimestamp, lastOffsetDelta: header.lastOffsetDelta)
    }

    /// The batch of `header` holding only the `kept` records of `section`.
    private static func rebuild(
        _ header: RecordBatchHeader, section: UnsafeRawBufferPointer, kept: [CleanerRecords.Record], horizon: Int64?
    ) throws -> [UInt8] {
        var plain: [UInt8] = []
        plain.reserveCapacity(kept.reduce(0) { $0 + $1.range.count } + kept.count * 4)
        var maxTimestamp = Int64.min
        let base = horizon ?? header.baseTimestamp
        var body: [UInt8] = []
        for record in kept {
            let timestamp = header.baseTimestamp &+ record.timestampDelta
            maxTimestamp = max(maxTimestamp, timestamp)
            if horizon == nil {
                plain.append(contentsOf: UnsafeRawBufferPointer(rebasing: section[record.range]))
            } else {
                body.removeAll(keepingCapacity: true)
                body.append(0)  // attributes
                RecordBatchEncoder.appendVarint(timestamp &- base, to: &body)
                body.append(contentsOf: UnsafeRawBufferPointer(
                    rebasing: section[record.offsetDeltaPosition..<record.range.upperBound]))
                RecordBatchEncoder.appendVarint(Int64(body.count), to: &plain)
                plain += body
            }
        }
        let codec = try CompressionCodec(attributes: Int(header.attributes))
        var encoder = RecordBatchEncoder(baseOffset: header.baseOffset, baseTimestamp: base, compression: codec)
        encoder.partitionLeaderEpoch = header.partitionLeaderEpoch
        encoder.attributes = header.attributes & ~0x07
        if horizon != nil { encoder.attributes |= RecordBatchHeader.deleteHorizonBit }
        encoder.producerId = header.producerId
        encoder.producerEpoch = header.producerEpoch
        encoder.baseSequence = header.baseSequence
        let section = codec == .none ? plain : try codec.compress(plain)
        return try encoder.encode(
            section: section, recordCount: kept.count,
            maxTimestamp: header.isLogAppendTime ? header.maxTimestamp : maxTimestamp,
            lastOffsetDelta: header.lastOffsetDelta)
    }
}
