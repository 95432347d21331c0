import Atomics
import Dispatch

/// The log of one partition: a directory of segments (see `LogSegment` for the file layout), appended to by
/// one writer at a time and read by any number of readers. The directory also holds up to two producer state
/// snapshots, `<offset>.snapshot` (see `ProducerStateSnapshot`), written at roll, maintenance and close and
/// fsynced by the next `flush`; the idempotent producers' state is checked and updated under the append lock
/// (see `ProducerStateManager`).
///
/// Thread-safety: all methods may be called from any thread. Each piece of state has one owner (see
/// `CONCURRENCY.md`): everything the writer mutates (segment list, active segment's writer state, producer
/// state, flush bookkeeping) lives in one `WriterState` under one writer lock, never held during fsync. Readers
/// take no lock on the data path beyond copying the published segment list (an immutable array, replaced on
/// roll and deletion); log start offset, log end offset, high watermark, last stable offset and recovery point
/// are published through atomics. Segments removed by retention stay readable by whoever still holds them.
public final class PartitionLog: @unchecked Sendable {
    /// What opening the log had to do.
    public struct RecoveryStats: Sendable, Equatable {
        /// Segments scanned batch by batch (those after the recovery point).
        public var segmentsScanned = 0
        /// Bytes read by those scans.
        public var bytesScanned = 0
        /// Bytes removed: torn, corrupt or zero-filled tails, and segments after a truncation.
        public var bytesTruncated = 0
        /// Files skipped or moved aside because their content could not be used (unreadable producer snapshots,
        /// segment files with impossible base offsets), one line each, for the broker to log. The log opened
        /// without them.
        public var warnings: [String] = []
    }

    public let directory: String
    let clock: LogClock
    public let recoveryStats: RecoveryStats

    /// The writer's state: appends, rolls, retention, flush bookkeeping and close run inside `writer.withLock`.
    let writer: LockedState<WriterState>
    /// The configuration, read through `config`, replaced by `updateConfig(_:)` (under the writer lock too).
    let configState: LockedState<LogConfig>
    /// The segment list as published to readers: a copy of `WriterState.segments`, replaced by the writer.
    private let publishedSegments: LockedState<[LogSegment]>

    // Published values: written by the writer (under the writer lock), read by anyone without a lock.
    private let logStart: ManagedAtomic<Int64>
    private let logEnd: ManagedAtomic<Int64>
    private let highWater: ManagedAtomic<Int64>
    private let lastStable: ManagedAtomic<Int64>
    private let recovered: ManagedAtomic<Int64>

    /// Group commit (`waitUntilDurable`): waiters and whether a round runs, under their own lock; rounds run on
    /// `syncQueue`. Never taken together with the writer lock.
    let groupCommit = LockedState(GroupCommit())
    let syncQueue: DispatchQueue

    /// Append listeners (long-poll wake-ups), under their own lock; `listenerCount` publishes their number so
    /// appends skip the lock when there are none. Never taken together with the writer lock.
    let listeners = LockedState(Listeners())

    /// The aborted transactions of the partition (every segment's `.txnindex`), in marker order; appended to by
    /// the writer (under the writer lock, this lock nested inside), read by read_committed fetches.
    let abortedIndex: LockedState<[AbortedTransaction]>
    let listenerCount = ManagedAtomic<Int>(0)
    /// Where appends and reads are counted for the log cleaner's pacing (the `LogManager`'s), if anywhere.
    let activity: LogActivity?

    /// The epoch cache (see `PartitionLog+LeaderEpochs.swift`); replaced by the writer under the writer lock (this
    /// lock nested inside), read by OffsetForLeaderEpoch.
    let epochs: LockedState<LeaderEpochCache>
    /// The leader epoch stamped on appended batches, stored under the writer lock.
    let currentEpoch: ManagedAtomic<Int32>

    /// Opens (creating when absent) the log in `directory`. Segments after `recoveryPoint` are scanned and cut
    /// after their last valid batch; indexes that are missing or fail validation are rebuilt.
    ///
    /// - Parameters:
    ///   - recoveryPoint: offset below which data is known to be flushed (from the recovery point checkpoint).
    ///   - logStartOffset: the checkpointed log start offset (from `deleteRecords`).
    ///   - activity: where appended and read bytes are counted (the cleaner yields to them).
    public init(
        directory: String, config: LogConfig = LogConfig(), clock: LogClock = .system,
        recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0, activity: LogActivity? = nil
    ) throws {
        guard config.segmentBytes > RecordBatchHeader.size, config.segmentBytes <= Int(Int32.max),
              config.segmentIndexBytes >= OffsetIndex.entrySize * 4, config.indexIntervalBytes >= 0
        else { throw LogEngineError(.invalidArgument, "invalid log configuration", context: directory) }
        self.directory = directory
        self.activity = activity
        self.configState = LockedState(config)
        self.clock = clock
        self.syncQueue = DispatchQueue(label: "portask.logengine.flush", target: .global())
        try FileSystem.makeDirectory(directory)
        var stats = RecoveryStats()
        let segments = try Self.loadSegments(
            directory: directory, config: config, nowMs: clock.nowMs(), recoveryPoint: recoveryPoint,
            logStartOffset: logStartOffset, stats: &stats)
        guard let active = segments.last else {
            throw LogEngineError(.io, "no segment after loading", context: directory)
        }
        let activeState = active.storedWriterState
        let end = activeState.nextOffset
        let producers = try Self.loadProducerState(
            directory: directory, segments: segments, logEndOffset: end, nowMs: clock.nowMs(), config: config)
        stats.warnings += producers.warnings
        let startOffset = min(max(logStartOffset, segments[0].baseOffset), end)
        let epochCache = try Self.loadLeaderEpochs(
            directory: directory, segments: segments, recoveryPoint: recoveryPoint, logStartOffset: startOffset,
            logEndOffset: end, stats: &stats)
        var writerState = WriterState(
            segments: segments, active: activeState, producerState: producers.state,
            producerSnapshotOffset: producers.snapshotOffset, producerStateChanged: producers.changed)
        writerState.latestEpochEntry = epochCache.entries.last
        self.writer = LockedState(writerState)
        self.epochs = LockedState(epochCache)
        // Epoch 0 for a partition that never changed leader; never below an epoch its data already carries.
        self.currentEpoch = ManagedAtomic(max(0, epochCache.latestEpoch ?? 0))
        self.publishedSegments = LockedState(segments)
        self.recoveryStats = stats
        self.logEnd = ManagedAtomic(end)
        self.highWater = ManagedAtomic(end)
        self.lastStable = ManagedAtomic(min(producers.state.firstUnstableOffset ?? end, end))
        self.abortedIndex = LockedState(producers.aborted)
        self.logStart = ManagedAtomic(startOffset)
        // Scanned data is fsynced by loadSegments, so everything present is now recovered.
        self.recovered = ManagedAtomic(end)
    }

    /// The current segments, oldest first; the last one is the active segment. An immutable snapshot.
    public var segments: [LogSegment] { publishedSegments.withLock { $0 } }

    /// Makes `segments` the writer's list and publishes it to readers. Caller holds the writer lock (`state`).
    func replaceSegments(_ segments: [LogSegment], in state: inout WriterState) {
        state.segments = segments
        publishedSegments.withLock { $0 = segments }
    }

    /// The first offset still readable.
    public var logStartOffset: Int64 { logStart.load(ordering: .acquiring) }
    /// The offset the next appended record gets.
    public var logEndOffset: Int64 { logEnd.load(ordering: .acquiring) }
    /// Offsets below it are visible to consumers (equal to the log end offset on a single replica). Never above
    /// the log end offset. Reads are bounded by it.
    public var highWatermark: Int64 { highWater.load(ordering: .acquiring) }
    /// Offsets below it hold no open transaction (what read_committed consumers may see). Never above the high
    /// watermark; the first offset of the earliest open transaction while one is open, the high watermark otherwise.
    public var lastStableOffset: Int64 { lastStable.load(ordering: .acquiring) }
    /// Offsets below it are fsynced.
    public var recoveryPoint: Int64 { recovered.load(ordering: .acquiring) }
    /// Total bytes in all segments.
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }

    /// Publishes a new log end offset after an append; on a single replica the high watermark follows it, and
    /// the last stable offset too unless a transaction is open (then it is that transaction's first offset). Stored in that order, so a reader that loads them in the
    /// opposite order never sees LSO > HW or HW > LEO. Caller holds the writer lock.
    func publishEnd(_ offset: Int64, firstUnstableOffset: Int64?) {
        logEnd.store(offset, ordering: .releasing)
        highWater.store(offset, ordering: .releasing)
        lastStable.store(min(firstUnstableOffset ?? offset, offset), ordering: .releasing)
    }

    /// Publishes a new log end offset after a follower's append; the high watermark and last stable offset stay
    /// (the replication layer moves them). Caller holds the writer lock.
    func publishFollowerEnd(_ offset: Int64) {
        logEnd.store(offset, ordering: .releasing)
    }

    /// Publishes the offsets after a truncation to `end`: the last stable offset, high watermark and recovery
    /// point move down to it when above (stored in that order, so LSO <= HW <= LEO holds for any reader), then
    /// the log end, and the start offset becomes `start`. Caller holds the writer lock.
    func publishTruncation(end: Int64, start: Int64, firstUnstableOffset: Int64?) {
        let watermark = min(highWatermark, end)
        lastStable.store(min(firstUnstableOffset ?? watermark, watermark), ordering: .releasing)
        highWater.store(watermark, ordering: .releasing)
        recovered.store(min(recoveryPoint, end), ordering: .releasing)
        logEnd.store(end, ordering: .releasing)
        logStart.store(start, ordering: .releasing)
        // A whole new log (truncateFullyAndStartAt) moves everything to its start.
        if highWatermark < start { highWater.store(start, ordering: .releasing) }
        if lastStableOffset < start { lastStable.store(start, ordering: .releasing) }
        if recoveryPoint < start { recovered.store(start, ordering: .releasing) }
    }

    func publishStart(_ offset: Int64) {
        logStart.store(offset, ordering: .releasing)
    }

    func publishRecoveryPoint(_ offset: Int64) {
        var current = recovered.load(ordering: .relaxed)
        while current < offset {
            let (exchanged, original) = recovered.compareExchange(
                expected: current, desired: offset, ordering: .acquiringAndReleasing)
            if exchanged { return }
            current = original
        }
    }

    /// Sets the high watermark (replication); clamped to the log end offset.
    /// The last stable offset follows it, bounded by the first offset of the earliest open transaction.
    public func updateHighWatermark(_ offset: Int64) {
        writer.withLock { state in
            let watermark = min(offset, logEndOffset)
            let stable = min(state.producerState.firstUnstableOffset ?? watermark, watermark)
            if watermark < lastStableOffset {
                lastStable.store(stable, ordering: .releasing)
                highWater.store(watermark, ordering: .releasing)
            } else {
                highWater.store(watermark, ordering: .releasing)
                lastStable.store(stable, ordering: .releasing)
            }
        }
    }

    /// Flushes, snapshots the producer state at the log end, trims the active segment's indexes and refuses
    /// further appends. Slices handed out stay valid.
    public func close() throws {
        let wasOpen = writer.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        try flush()
        try writer.withLock { state in
            // A failed snapshot costs a replay of the log at the next open, not the close.
            var snapshotFailure: Error? = nil
            do { try takeProducerSnapshot(&state, durable: true) } catch { snapshotFailure = error }
            try state.segments.last?.becomeInactive(final: state.active)
            if let snapshotFailure { throw snapshotFailure }
        }
    }
}
