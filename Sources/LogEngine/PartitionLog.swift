import Atomics
import Dispatch

/// The log of one partition: a directory of segments (see `LogSegment` for the file layout), appended to by
/// one writer at a time and read by any number of readers. The directory also holds up to two producer state
/// snapshots, `<offset>.snapshot` (see `ProducerStateSnapshot`), written at roll, maintenance and close and
/// fsynced by the next `flush`; the idempotent producers' state is checked and updated under the append lock
/// (see `ProducerStateManager`).
///
/// Thread-safety: all methods may be called from any thread. Appends, rolls, flush bookkeeping and retention
/// are serialised by a per-partition lock (never held during fsync). Readers take no lock on the data path
/// beyond copying the current segment list (an immutable array, replaced on roll and deletion); log start
/// offset, log end offset, high watermark and recovery point are published through atomics. Segments removed
/// by retention stay readable by whoever still holds them.
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
    /// The configuration, read through `config`, replaced by `updateConfig(_:)`; guarded by configLock.
    var configStorage: LogConfig
    let configLock = Lock()
    let clock: LogClock
    public let recoveryStats: RecoveryStats

    let writeLock = Lock()
    private let segmentsLock = Lock()
    private var _segments: [LogSegment]

    private let logStart: ManagedAtomic<Int64>
    private let logEnd: ManagedAtomic<Int64>
    private let highWater: ManagedAtomic<Int64>
    private let recovered: ManagedAtomic<Int64>

    // Writer state, guarded by writeLock.
    var closed = false
    var unflushedMessages: Int64 = 0
    var firstUnflushedMs: Int64? = nil
    var directoryNeedsSync = false
    /// The idempotent producers (see `PartitionLog+ProducerState.swift`).
    var producerState: ProducerStateManager
    /// Offset of the newest producer snapshot file, and whether the state changed since it was written.
    var producerSnapshotOffset: Int64?
    var producerStateChanged = false
    /// Snapshot files written under the lock without fsync; `flush` fsyncs them outside it.
    var unsyncedSnapshots: [String] = []

    // Group commit state, guarded by syncLock.
    let syncLock = Lock()
    var syncWaiters: [(offset: Int64, continuation: CheckedContinuation<Void, Error>)] = []
    var syncInFlight = false
    let syncQueue: DispatchQueue

    // Append listeners (long-poll wake-ups), guarded by listenersLock; the count lets appends skip the lock.
    let listenersLock = Lock()
    var listeners: [Int: @Sendable (Int64) -> Void] = [:]
    var nextListenerID = 0
    let listenerCount = ManagedAtomic<Int>(0)

    /// Opens (creating when absent) the log in `directory`. Segments after `recoveryPoint` are scanned and cut
    /// after their last valid batch; indexes that are missing or fail validation are rebuilt.
    ///
    /// - Parameters:
    ///   - recoveryPoint: offset below which data is known to be flushed (from the recovery point checkpoint).
    ///   - logStartOffset: the checkpointed log start offset (from `deleteRecords`).
    public init(
        directory: String, config: LogConfig = LogConfig(), clock: LogClock = .system,
        recoveryPoint: Int64 = 0, logStartOffset: Int64 = 0
    ) throws {
        guard config.segmentBytes > RecordBatchHeader.size, config.segmentBytes <= Int(Int32.max),
              config.segmentIndexBytes >= OffsetIndex.entrySize * 4, config.indexIntervalBytes >= 0
        else { throw LogEngineError(.invalidArgument, "invalid log configuration", context: directory) }
        self.directory = directory
        self.configStorage = config
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
        let end = active.nextOffset
        let producers = try Self.loadProducerState(
            directory: directory, segments: segments, logEndOffset: end, nowMs: clock.nowMs(), config: config)
        self.producerState = producers.state
        self.producerSnapshotOffset = producers.snapshotOffset
        self.producerStateChanged = producers.changed
        stats.warnings += producers.warnings
        self._segments = segments
        self.recoveryStats = stats
        self.logEnd = ManagedAtomic(end)
        self.highWater = ManagedAtomic(end)
        self.logStart = ManagedAtomic(min(max(logStartOffset, segments[0].baseOffset), end))
        // Scanned data is fsynced by loadSegments, so everything present is now recovered.
        self.recovered = ManagedAtomic(end)
    }

    /// The current segments, oldest first; the last one is the active segment.
    public var segments: [LogSegment] { segmentsLock.withLock { _segments } }

    func publish(_ segments: [LogSegment]) {
        segmentsLock.withLock { _segments = segments }
    }

    /// The first offset still readable.
    public var logStartOffset: Int64 { logStart.load(ordering: .acquiring) }
    /// The offset the next appended record gets.
    public var logEndOffset: Int64 { logEnd.load(ordering: .acquiring) }
    /// Offsets below it are visible to consumers (equal to the log end offset on a single replica).
    public var highWatermark: Int64 { highWater.load(ordering: .acquiring) }
    /// Offsets below it are fsynced.
    public var recoveryPoint: Int64 { recovered.load(ordering: .acquiring) }
    /// Total bytes in all segments.
    public var sizeInBytes: Int { segments.reduce(0) { $0 + $1.size } }

    func publishEnd(_ offset: Int64) {
        logEnd.store(offset, ordering: .releasing)
        highWater.store(offset, ordering: .releasing)
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
    public func updateHighWatermark(_ offset: Int64) {
        writeLock.withLock { highWater.store(min(offset, logEndOffset), ordering: .releasing) }
    }

    /// Flushes, snapshots the producer state at the log end, trims the active segment's indexes and refuses
    /// further appends. Slices handed out stay valid.
    public func close() throws {
        let wasOpen = writeLock.withLock {
            defer { closed = true }
            return !closed
        }
        guard wasOpen else { return }
        try flush()
        try writeLock.withLock {
            // A failed snapshot costs a replay of the log at the next open, not the close.
            var snapshotFailure: Error? = nil
            do { try takeProducerSnapshot(durable: true) } catch { snapshotFailure = error }
            try segments.last?.becomeInactive()
            if let snapshotFailure { throw snapshotFailure }
        }
    }
}
