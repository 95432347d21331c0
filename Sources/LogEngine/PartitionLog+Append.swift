import NIOCore

/// The outcome of one append. Thread-safety: a value type.
public struct AppendInfo: Sendable, Equatable {
    /// Offset assigned to the first record.
    public var firstOffset: Int64
    /// Offset assigned to the last record.
    public var lastOffset: Int64
    /// The broker time stamped on the batches under LogAppendTime, -1 under CreateTime.
    public var logAppendTime: Int64
    /// The log start offset after the append.
    public var logStartOffset: Int64
    /// Number of records appended.
    public var recordCount: Int
    /// Number of batches appended.
    public var batchCount: Int
    /// The request repeated an idempotent producer's batch already in the log: nothing was appended and the
    /// offsets are those of the stored batch.
    public var isDuplicate = false
    /// The append reached `flush.messages`: an fsync of the log was started on its sync queue. Kafka answers
    /// such an append after the fsync; wait with `waitUntilDurable(lastOffset + 1)` to do the same.
    public var flushScheduled = false
}

extension PartitionLog {
    /// Appends the record batches of one produce request.
    ///
    /// Every batch is validated first, as Kafka's `LogValidator` does: magic 2, sizes, CRC-32C, record count,
    /// `max.message.bytes`, then its records against its header (see `RecordValidator`; compressed batches are
    /// decompressed for this, within `decompressionBudget`, and not recompressed); client batches may not be
    /// control or transactional batches. Under CreateTime a header max timestamp that differs from the largest
    /// record timestamp is corrected (CRC recomputed), as Kafka does. Then each batch is checked
    /// against the producer state (see `ProducerStateManager`): a duplicate of a retained batch returns that
    /// batch's offsets with `isDuplicate` and appends nothing; an epoch or sequence violation throws
    /// `invalidProducerEpoch` or `outOfOrderSequence`. The check and the append happen under one lock. Then offsets
    /// are assigned by rewriting each base offset in place; the log's leader epoch is stamped over each batch's
    /// partition leader epoch (outside the CRC; clients' values are overwritten, as Kafka's leader does), and the
    /// epoch cache and its checkpoint gain an entry when the epoch starts (and, under LogAppendTime, the timestamp type and max
    /// timestamp, with the CRC recomputed), and all batches are written with one write call. Records are never
    /// decoded. Rolls the active segment first when `segment.bytes`, `segment.ms` (measured like Kafka, from the
    /// first batch's timestamp to the incoming one), a full index or the 32-bit relative offset limit require it.
    /// When `flush.messages` is reached, starts an fsync on the log's sync queue (`AppendInfo.flushScheduled`).
    ///
    /// The offsets are rewritten inside `records`' storage: when the caller passes its last reference (e.g.
    /// a request slice it no longer needs), no copy is made; otherwise copy-on-write copies the bytes once.
    ///
    /// - Parameters:
    ///   - origin: `.client` for producers' batches (the default), `.broker` for the broker's own writes.
    ///   - decompressionBudget: the bytes decompressing the request's compressed batches may take in total;
    ///     nil for `DecompressionBudget.forAppend(maxMessageBytes:)` of the log's `max.message.bytes`.
    /// - Throws: `corruptBatch` (CRC, structure, undecodable compression), `invalidArgument` (records that
    ///   disagree with their header, client control batches: `LogEngineError.invalidRecord`),
    ///   `recordTooLarge` (`max.message.bytes`, decompression budget), producer state errors.
    ///
    /// Thread-safety: callable from any thread; appends to one partition are serialised.
    @discardableResult
    public func append(
        _ records: consuming ByteBuffer, origin: AppendOrigin = .client, decompressionBudget: Int? = nil
    ) throws -> AppendInfo {
        var budget = decompressionBudget.map { DecompressionBudget(limit: $0) }
            ?? DecompressionBudget.forAppend(maxMessageBytes: config.maxMessageBytes)
        return try append(records, origin: origin, budget: &budget)
    }

    /// As `append(_:origin:decompressionBudget:)`, charging the validation's decompression to `budget`, which the
    /// caller shares with the rest of its request (one total for every partition of a produce request).
    @discardableResult
    public func append(
        _ records: consuming ByteBuffer, origin: AppendOrigin = .client, budget: inout DecompressionBudget
    ) throws -> AppendInfo {
        var buffer = consume records
        guard buffer.readableBytes > 0 else {
            throw LogEngineError(.invalidArgument, "empty record set", context: directory)
        }
        // Validation (CRC-32C and records included) needs no offsets, so it runs before taking the append lock;
        // asking for mutable bytes here also makes any copy-on-write copy happen outside the lock.
        let config = self.config
        try buffer.withUnsafeMutableReadableBytes { bytes in
            let readable = UnsafeRawBufferPointer(bytes)
            var walk = RecordBatchSequence(readable).makeIterator()
            while let batch = walk.next() {
                try Self.validateBatch(batch, in: bytes, origin: origin, config: config, budget: &budget)
            }
            if let stop = walk.stop {
                // A batch its length does not delimit: the batch checks say why, with Kafka's error code.
                try stop.header?.validateClientBatch(
                    in: readable, at: stop.position, maxBatchBytes: config.maxMessageBytes)
                throw stop.error
            }
        }
        let appendedBytes = buffer.readableBytes
        let flushNeeded: Bool
        let info: AppendInfo
        (info, flushNeeded) = try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            let now = clock.nowMs()
            let appendTime = config.messageTimestampType == .logAppendTime ? now : -1
            let firstOffset = logEndOffset
            var batches: [LogSegment.AppendedBatch] = []
            var recordCount = 0
            var producers = ProducerStateManager.Append()
            var end = firstOffset
            let duplicate = try buffer.withUnsafeMutableReadableBytes { bytes -> ProducerStateEntry.Batch? in
                let readable = UnsafeRawBufferPointer(bytes)
                var next = firstOffset
                for batch in RecordBatchSequence(readable) {
                    let header = batch.header
                    let timestamp = appendTime >= 0 ? appendTime : header.maxTimestamp
                    if header.isControl {
                        // Transaction markers (only the broker writes control batches) end the producer's
                        // transaction; they carry no sequence.
                        if header.producerId >= 0, let marker = ControlRecord.parse(header, in: readable, at: batch.position) {
                            _ = try state.producerState.stageMarker(
                                producerId: header.producerId, epoch: header.producerEpoch, commit: marker.isCommit,
                                coordinatorEpoch: marker.coordinatorEpoch, offset: next, timestamp: timestamp,
                                validate: true, into: &producers, context: directory)
                        }
                    } else if header.producerId >= 0 {
                        if let duplicate = state.producerState.duplicate(of: header) { return duplicate }
                        // The broker's own transactional writes (offsets of a transaction) carry no sequence.
                        try state.producerState.stage(
                            header, firstOffset: next, timestamp: timestamp,
                            validate: origin == .client, into: &producers, context: directory)
                    }
                    let (after, overflow) = next.addingReportingOverflow(Int64(header.lastOffsetDelta) + 1)
                    // One segment holds 2^31 offsets past its base: a request spanning more cannot be stored.
                    guard !overflow, after - firstOffset <= Int64(Int32.max) else {
                        throw LogEngineError(
                            .recordTooLarge, "the batches span more offsets than a segment can hold",
                            context: directory)
                    }
                    next = after
                }
                next = firstOffset
                let epoch = leaderEpoch
                for batch in RecordBatchSequence(readable) {
                    let (position, header) = (batch.position, batch.header)
                    RecordBatchHeader.rewriteBaseOffset(next, in: bytes, at: position)
                    RecordBatchHeader.setPartitionLeaderEpoch(epoch, in: bytes, at: position)
                    if appendTime >= 0 {
                        RecordBatchHeader.setLogAppendTime(appendTime, in: bytes, at: position, totalSize: header.totalSize)
                    }
                    let lastOffset = next + Int64(header.lastOffsetDelta)
                    batches.append(.init(
                        relativePosition: position, size: header.totalSize, lastOffset: lastOffset,
                        maxTimestamp: appendTime >= 0 ? appendTime : header.maxTimestamp))
                    recordCount += Int(header.recordCount)
                    next = lastOffset + 1
                }
                let incomingMaxTimestamp = batches.reduce(Int64(-1)) { max($0, $1.maxTimestamp) }
                let segment = try activeSegment(
                    &state, forAppending: bytes.count, lastOffset: next - 1, maxTimestamp: incomingMaxTimestamp,
                    nowMs: now)
                try assignEpoch(epoch, startOffset: firstOffset, state: &state)
                try segment.append(readable, batches: batches, state: &state.active)
                end = next
                return nil
            }
            if let duplicate {
                let info = AppendInfo(
                    firstOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset, logAppendTime: -1,
                    logStartOffset: logStartOffset, recordCount: 0, batchCount: 0, isDuplicate: true)
                return (info, false)
            }
            if !producers.updates.isEmpty {
                state.producerState.apply(producers)
                state.producerStateChanged = true
            }
            try recordCompletedTransactions(producers.completed, end: end, state: &state)
            publishEnd(end, firstUnstableOffset: state.producerState.firstUnstableOffset)
            state.unflushedMessages += Int64(recordCount)
            if state.firstUnflushedMs == nil { state.firstUnflushedMs = now }
            var info = AppendInfo(
                firstOffset: firstOffset, lastOffset: logEndOffset - 1, logAppendTime: appendTime,
                logStartOffset: logStartOffset, recordCount: recordCount, batchCount: batches.count)
            info.flushScheduled = state.unflushedMessages >= config.flushMessages
            return (info, info.flushScheduled)
        }
        // Outside the writer lock: the fsync runs on the log's sync queue, never on the appending thread, and
        // listeners may take other locks.
        if flushNeeded { scheduleFlush() }
        activity?.recordAppend(bytes: appendedBytes, compacted: config.compact)
        notifyAppendListeners(highWatermark)
        return info
    }

    /// The segment to append `incomingBytes` to, rolling first when needed. Caller holds the writer lock.
    func activeSegment(
        _ state: inout WriterState, forAppending incomingBytes: Int, lastOffset: Int64, maxTimestamp: Int64,
        nowMs: Int64
    ) throws -> LogSegment {
        guard let active = state.segments.last else {
            throw LogEngineError(.io, "log has no segment", context: directory)
        }
        let size = active.size
        guard size > 0 else { return active }
        let full = size > config.segmentBytes - incomingBytes
        let waited = active.timeWaitedForRoll(nowMs: nowMs, incomingMaxTimestamp: maxTimestamp, state: &state.active)
        let old = waited > config.segmentMs
        let offsetOverflow = lastOffset - active.baseOffset > Int64(Int32.max)
        guard full || old || offsetOverflow || active.indexIsFull else { return active }
        return try roll(&state)
    }

    /// Starts a new active segment at the log end offset. Caller holds the writer lock.
    @discardableResult
    func roll(_ state: inout WriterState) throws -> LogSegment {
        // As Kafka does: the producer state as of the new segment's base offset, so opening the log after a
        // crash replays at most the active segment.
        try takeProducerSnapshot(&state)
        let nowMs = clock.nowMs()
        let fresh = try LogSegment.create(directory: directory, baseOffset: logEndOffset, config: config, nowMs: nowMs)
        try state.segments.last?.becomeInactive(final: state.active)
        state.active = fresh.storedWriterState
        replaceSegments(state.segments + [fresh], in: &state)
        state.directoryNeedsSync = true
        return fresh
    }

    /// Rolls the active segment now if it holds data (for tests and administrative use).
    public func roll() throws {
        try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            if let active = state.segments.last, active.size > 0 { try roll(&state) }
        }
    }
}
