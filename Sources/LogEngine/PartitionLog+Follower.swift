import NIOCore

extension PartitionLog {
    /// Appends batches fetched from the partition's leader, as Kafka's `UnifiedLog.appendAsFollower`: offsets,
    /// leader epochs and timestamps are kept as the leader wrote them (no byte is changed). Each batch must be
    /// whole with a valid CRC-32C (`corruptBatch`; records are not decoded), and the offsets must increase from batch to batch, the first
    /// at or after the log end offset (`invalidArgument` otherwise; a gap is what the leader's compaction left).
    /// The producer state is updated without sequence checks, aborted transactions are indexed, and each batch's
    /// epoch enters the epoch cache (its checkpoint rewritten when an epoch starts). The high watermark does not
    /// move: the replication layer sets it with `updateHighWatermark(_:)`.
    ///
    /// Thread-safety: callable from any thread; serialised with every other append.
    @discardableResult
    public func appendAsFollower(_ records: consuming ByteBuffer) throws -> AppendInfo {
        var buffer = consume records
        guard buffer.readableBytes > 0 else {
            throw LogEngineError(.invalidArgument, "no record batch", context: directory)
        }
        // Whole batches with valid CRCs, as Kafka's follower checks them (`ensureValid`: a compacted leader's
        // batches may hold fewer records than their offset range); offsets are checked below.
        try buffer.withUnsafeReadableBytes { bytes in
            var walk = RecordBatchSequence(bytes).makeIterator()
            while let batch = walk.next() {
                try batch.header.validateStored(in: bytes, at: batch.position)
            }
            if let stop = walk.stop { throw stop.error }
        }
        let info: AppendInfo = try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            let now = clock.nowMs()
            let logEnd = logEndOffset
            var batches: [LogSegment.AppendedBatch] = []
            var recordCount = 0
            var producers = ProducerStateManager.Append()
            var firstOffset: Int64 = -1
            var next = logEnd
            try buffer.withUnsafeReadableBytes { bytes in
                for batch in RecordBatchSequence(bytes) {
                    let header = batch.header
                    guard header.hasStorableBaseOffset, header.baseOffset >= next else {
                        throw LogEngineError(
                            .invalidArgument,
                            "batch at offset \(header.baseOffset) does not follow offset \(next - 1)", context: directory)
                    }
                    let lastOffset = header.baseOffset + Int64(header.lastOffsetDelta)
                    guard lastOffset - logEnd <= Int64(Int32.max) else {
                        throw LogEngineError(
                            .recordTooLarge, "the batches span more offsets than a segment can hold", context: directory)
                    }
                    if firstOffset < 0 { firstOffset = header.baseOffset }
                    if header.producerId >= 0 {
                        if header.isControl {
                            if let marker = ControlRecord.parse(header, in: bytes, at: batch.position) {
                                _ = try state.producerState.stageMarker(
                                    producerId: header.producerId, epoch: header.producerEpoch, commit: marker.isCommit,
                                    coordinatorEpoch: marker.coordinatorEpoch, offset: header.baseOffset,
                                    timestamp: header.maxTimestamp, validate: false, into: &producers,
                                    context: directory)
                            }
                        } else {
                            try state.producerState.stage(
                                header, firstOffset: header.baseOffset, timestamp: header.maxTimestamp,
                                validate: false, into: &producers, context: directory)
                        }
                    }
                    batches.append(.init(
                        relativePosition: batch.position, size: header.totalSize, lastOffset: lastOffset,
                        maxTimestamp: header.maxTimestamp))
                    recordCount += Int(header.recordCount)
                    next = lastOffset + 1
                }
                let incomingMaxTimestamp = batches.reduce(Int64(-1)) { max($0, $1.maxTimestamp) }
                let segment = try activeSegment(
                    &state, forAppending: bytes.count, lastOffset: next - 1, maxTimestamp: incomingMaxTimestamp,
                    nowMs: now)
                for batch in RecordBatchSequence(bytes) {
                    try assignEpoch(batch.header.partitionLeaderEpoch, startOffset: batch.header.baseOffset, state: &state)
                }
                try segment.append(bytes, batches: batches, state: &state.active)
            }
            if !producers.updates.isEmpty {
                state.producerState.apply(producers)
                state.producerStateChanged = true
            }
            try recordCompletedTransactions(producers.completed, end: next, state: &state)
            publishFollowerEnd(next)
            state.unflushedMessages += Int64(recordCount)
            if state.firstUnflushedMs == nil { state.firstUnflushedMs = now }
            return AppendInfo(
                firstOffset: firstOffset, lastOffset: next - 1, logAppendTime: -1, logStartOffset: logStartOffset,
                recordCount: recordCount, batchCount: batches.count)
        }
        notifyAppendListeners(highWatermark)
        return info
    }
}
