import Atomics

extension PartitionLog {
    /// The leader epoch stamped on the batches this log appends as leader (bytes 12–15 of each batch). 0 for a
    /// partition that never changed leader, as Kafka stamps at creation. Lock-free.
    public var leaderEpoch: Int32 { currentEpoch.load(ordering: .acquiring) }

    /// A copy of the epoch cache (epoch → first offset), as in the `leader-epoch-checkpoint` file.
    public var leaderEpochCache: LeaderEpochCache { epochs.withLock { $0 } }

    /// Kafka's OffsetForLeaderEpoch answer for `epoch` (see `LeaderEpochCache.endOffset(for:logEndOffset:)`):
    /// the epoch found and the offset it ends at; (-1, -1) when undefined.
    /// Thread-safety: any thread; takes only the cache's leaf lock.
    public func endOffset(forLeaderEpoch epoch: Int32) -> (epoch: Int32, endOffset: Int64) {
        epochs.withLock { cache in cache.endOffset(for: epoch, logEndOffset: logEndOffset) }
    }

    /// Makes `epoch` the leader epoch of later appends and records that it starts at the log end offset, as
    /// Kafka does when a replica becomes leader. An epoch below the current one throws `invalidArgument`.
    public func becomeLeader(epoch: Int32) throws {
        try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            guard epoch >= leaderEpoch else {
                throw LogEngineError(
                    .invalidArgument, "leader epoch \(epoch) is below the current \(leaderEpoch)", context: directory)
            }
            currentEpoch.store(epoch, ordering: .releasing)
            try assignEpoch(epoch, startOffset: logEndOffset, state: &state)
        }
    }

    /// Adds the entry when the epoch is new (or starts earlier) and writes the checkpoint durably before the
    /// batches are written, as Kafka does; a crash before they are written leaves an entry at or above the log
    /// end, removed at the next open. Caller holds the writer lock.
    func assignEpoch(_ epoch: Int32, startOffset: Int64, state: inout WriterState) throws {
        guard state.epochCacheNeedsUpdate(epoch: epoch, startOffset: startOffset) else { return }
        var updated = epochs.withLock { $0 }
        guard updated.assign(epoch: epoch, startOffset: startOffset) else { return }
        try updated.write(directory: directory)
        epochs.withLock { $0 = updated }
        state.latestEpochEntry = updated.entries.last
    }

    /// Removes epoch entries at or above `endOffset` and rewrites the checkpoint when anything changed.
    /// Caller holds the writer lock.
    func truncateEpochs(fromEnd endOffset: Int64, state: inout WriterState) throws {
        var updated = epochs.withLock { $0 }
        guard updated.truncateFromEnd(endOffset) else { return }
        try updated.write(directory: directory)
        epochs.withLock { $0 = updated }
        state.latestEpochEntry = updated.entries.last
    }

    /// Moves the first epoch entry up to a new log start offset and rewrites the checkpoint when anything
    /// changed. Caller holds the writer lock.
    func truncateEpochs(fromStart startOffset: Int64, state: inout WriterState) throws {
        var updated = epochs.withLock { $0 }
        guard updated.truncateFromStart(startOffset) else { return }
        try updated.write(directory: directory)
        epochs.withLock { $0 = updated }
        state.latestEpochEntry = updated.entries.last
    }

    /// The epoch cache when the log is opened: the checkpoint file (rebuilt from every batch when it is
    /// missing or unreadable), updated from the batches at or after `replayFrom` (those recovery scanned, as Kafka's
    /// `LogLoader` re-assigns them), cut to `[logStartOffset, logEndOffset)`, with the current epoch (0 for a
    /// new log) starting at the log end when absent. Rewritten when that changed it.
    static func loadLeaderEpochs(
        directory: String, segments: [LogSegment], recoveryPoint: Int64, logStartOffset: Int64,
        logEndOffset: Int64, stats: inout RecoveryStats
    ) throws -> LeaderEpochCache {
        var replayFrom = recoveryPoint
        var unreadable = false
        let stored: LeaderEpochCache?
        do {
            stored = try LeaderEpochCache.read(directory: directory)
        } catch let error as LogEngineError where error.code == .corruptIndex {
            stats.warnings.append("leader epoch checkpoint in \(directory) is unreadable (\(error.message)); rebuilt")
            stored = nil
            unreadable = true
            replayFrom = 0
        }
        // Without a checkpoint nothing says which epochs the flushed batches carry: all of them are read.
        if stored == nil { replayFrom = 0 }
        var cache = stored ?? LeaderEpochCache()
        for (index, segment) in segments.enumerated() {
            let nextBase = index + 1 < segments.count ? segments[index + 1].baseOffset : Int64.max
            guard nextBase > replayFrom else { continue }
            try segment.ensureLoaded()
            let (mapping, bytes) = try segment.view()
            withExtendedLifetime(mapping) {
                var position = 0
                if segment.baseOffset < replayFrom {
                    position = segment.locate(replayFrom, in: bytes)?.position ?? bytes.count
                }
                for batch in RecordBatchSequence(bytes, from: position, check: .structure) {
                    let header = batch.header
                    guard header.hasStorableBaseOffset else { break }
                    cache.assign(epoch: header.partitionLeaderEpoch, startOffset: header.baseOffset)
                }
            }
        }
        cache.truncateFromEnd(logEndOffset)
        cache.truncateFromStart(logStartOffset)
        // As Kafka's leader records at creation ("0 0") and when it takes over: its epoch starts at the log end
        // unless the cache already has it.
        cache.assign(epoch: max(0, cache.latestEpoch ?? 0), startOffset: logEndOffset)
        if unreadable || cache != stored ?? LeaderEpochCache() {
            try cache.write(directory: directory)
        }
        return cache
    }
}
