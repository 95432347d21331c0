extension PartitionLog {
    /// Everything the log's one writer mutates, owned by the writer lock (`PartitionLog.writer`): appends, rolls,
    /// retention, flush bookkeeping, producer state and close read and change it only inside `writer.withLock`.
    /// Values readers need are published from here (segment list, offsets); readers never see this struct.
    struct WriterState {
        /// Refuses appends, rolls and snapshots once set.
        var closed = false
        /// The segments, oldest first; the last one is the active segment. Published by `replaceSegments`.
        var segments: [LogSegment]
        /// The active segment's writer state (index cadence, max timestamp, next offset, roll timing); handed to
        /// the segment by `becomeInactive(final:)` when it stops being active.
        var active: LogSegment.WriterState
        /// Records appended since the last flush, and the clock when the oldest of them was (`flush.messages`,
        /// `flush.ms`).
        var unflushedMessages: Int64 = 0
        var firstUnflushedMs: Int64? = nil
        /// A segment or snapshot file was created or removed since the directory was last fsynced.
        var directoryNeedsSync = false
        /// The idempotent producers (see `PartitionLog+ProducerState.swift`).
        var producerState: ProducerStateManager
        /// Offset of the newest producer snapshot file, and whether the state changed since it was written.
        var producerSnapshotOffset: Int64?
        var producerStateChanged = false
        /// Snapshot files written without fsync; `flush` fsyncs them outside the lock.
        var unsyncedSnapshots: [String] = []
        /// The newest entry of the epoch cache (`PartitionLog.epochs`), so appends decide without a lock whether
        /// an epoch starts.
        var latestEpochEntry: LeaderEpochCache.Entry?

        /// Whether assigning `epoch` at `startOffset` would change the epoch cache.
        func epochCacheNeedsUpdate(epoch: Int32, startOffset: Int64) -> Bool {
            guard epoch >= 0, startOffset >= 0 else { return false }
            guard let latest = latestEpochEntry else { return true }
            return latest.epoch != epoch || startOffset < latest.startOffset
        }
    }

    /// Group commit bookkeeping (see `waitUntilDurable`), owned by `PartitionLog.groupCommit`'s lock.
    struct GroupCommit {
        var waiters: [(offset: Int64, continuation: CheckedContinuation<Void, Error>)] = []
        /// A round is scheduled or running on `syncQueue`; it runs again while waiters remain.
        var inFlight = false
        /// `scheduleFlush` asked for a round while one was running: one more round follows it.
        var flushRequested = false
    }

    /// Registered append listeners, owned by `PartitionLog.listeners`' lock.
    struct Listeners {
        var byID: [Int: @Sendable (Int64) -> Void] = [:]
        var nextID = 0
    }
}
