import Atomics

/// One cleaner (Kafka's `Cleaner`): cleans one compacted log at a time, keeping the latest record of every key.
///
/// A round over `[firstDirtyOffset, firstUncleanableOffset)`:
/// 1. the offset map is filled with the keys of the dirty records (key hash → latest offset), records of aborted
///    transactions left out. When the batches count fewer records than the map takes and no transaction was
///    aborted, the dirty batches are walked newest first, which also decides each dirty record's fate
///    (`LogCleaner+NewestFirst`); otherwise they are walked in order, and when the map fills the round ends at the
///    last offset mapped (`endOffset`) and the next round continues from there;
/// 2. every segment from the start of the log to `endOffset` is rewritten, in groups of consecutive segments
///    whose sizes add up to at most `segment.bytes` (and whose indexes to `segment.index.bytes`, and whose offsets
///    fit 32-bit deltas from the group's base), each group into one `.cleaned` segment named after the group's
///    first base offset; what survives is decided by `CleanerRetention` (with `CleanerTransactions` for aborted
///    transactions and markers, from the partition's aborted-transaction index) and applied by
///    `CleanerBatchFilter`; the cleaned segment gets the `.txnindex` entries of the abort markers it keeps;
/// 3. each cleaned segment is fsynced and swapped in (`PartitionLog.replaceWithCleaned`).
/// The caller checkpoints `endOffset` as the log's new first dirty offset.
///
/// Appends, rolls and fetches go on meanwhile: the cleaner reads inactive segments only and takes the writer lock
/// only to swap. Its read plus written bytes go to a `CleanerPacer` (which yields to produce and fetch traffic
/// seen in the log engine's `LogActivity`) and to a `CleanerIoThrottle` (`log.cleaner.io.max.bytes.per.second`,
/// shared by all cleaner threads).
///
/// Thread-safety: one thread calls `clean` at a time (it owns its statistics); run several cleaners for several
/// logs at once. Within a round the cleaner uses `config.groupWorkers` threads (the caller's and Dispatch pool
/// threads): the two halves of the dirty range are walked newest first at once when memory allows, and groups are
/// rewritten at once and swapped in log order (`CleanerGroupPipeline`). Memory: within `dedupeBufferBytes`, the
/// offset map (two maps when walking halves), the newest-first walk's flags (3 bits per dirty offset) and batch
/// positions (8 bytes per batch of one segment per walking thread); and per rewriting thread one output chunk and
/// one batch.
public final class LogCleaner: @unchecked Sendable {
    /// Kafka's cleaner settings.
    public struct Config: Sendable, Equatable {
        /// Offset map memory of this cleaner (`log.cleaner.dedupe.buffer.size` divided by `log.cleaner.threads`).
        public var dedupeBufferBytes: Int
        /// `log.cleaner.io.buffer.load.factor`.
        public var loadFactor: Double
        /// `log.cleaner.io.max.bytes.per.second` (used when no shared `CleanerIoThrottle` is given).
        public var maxIoBytesPerSecond: Double
        /// How the cleaner yields to foreground traffic (when it is given a `LogActivity`).
        public var pacing: CleanerPacer.Settings
        /// Threads rewriting a round's groups of segments at once (this cleaner's thread and pool threads); the
        /// groups are swapped in log order whatever finishes first (`CleanerGroupPipeline`). 1: one at a time.
        public var groupWorkers: Int

        public init(
            dedupeBufferBytes: Int = 134_217_728, loadFactor: Double = 0.9,
            maxIoBytesPerSecond: Double = Double.greatestFiniteMagnitude, pacing: CleanerPacer.Settings = .init(),
            groupWorkers: Int = 2
        ) {
            self.dedupeBufferBytes = dedupeBufferBytes
            self.loadFactor = loadFactor
            self.maxIoBytesPerSecond = maxIoBytesPerSecond
            self.pacing = pacing
            self.groupWorkers = groupWorkers
        }
    }

    /// What one round did.
    public struct Stats: Sendable, Equatable {
        public var bytesRead = 0
        public var bytesWritten = 0
        public var recordsRead = 0
        public var recordsRetained = 0
        public var keylessRemoved = 0
        public var mappedKeys = 0
        public var mapBytes = 0
        public var groups = 0
        /// The offset map filled before the dirty range ended.
        public var mapFull = false
        /// The dirty range was walked newest first (its records' fate decided while mapping).
        public var newestFirst = false
        public var elapsedMs: Int64 = 0
        /// Time the round slept to yield to produce and fetch traffic (`CleanerPacer`).
        public var pausedMs: Int64 = 0
        /// Time the round slept for `log.cleaner.io.max.bytes.per.second`.
        public var throttledMs: Int64 = 0
    }

    /// The cleaning round was abandoned (the log closed, or its segments changed under it).
    public struct Aborted: Error {}

    public let config: Config
    let clock: LogClock
    /// Called after each swap step (tests simulate crashes by throwing).
    var swapHook: ((PartitionLog.SwapStep) throws -> Void)? = nil
    /// Whether rounds map newest first when they can (tests compare it with the forward walk).
    var mapsNewestFirst = true
    private let stopRequested = ManagedAtomic(false)
    /// Yields to the foreground; never pauses without a `LogActivity`.
    public let pacer: CleanerPacer
    /// `log.cleaner.io.max.bytes.per.second`, shared with the other cleaner threads when given.
    public let ioThrottle: CleanerIoThrottle
    private var roundPausedNs: Int64 = 0
    private let throttleLock = Lock()
    private var roundThrottledNs: Int64 = 0

    /// A cleaner reading `clock` for horizons. With `activity` (the log engine's, `LogManager.activity`) it yields
    /// to produce and fetch traffic as `config.pacing` says; without, it cleans at full speed. `ioThrottle` is the
    /// I/O limit shared by all cleaner threads (default: one of its own at `config.maxIoBytesPerSecond`).
    public init(
        config: Config = Config(), clock: LogClock = .system, activity: LogActivity? = nil,
        ioThrottle: CleanerIoThrottle? = nil, pacingClock: CleanerClock = .system
    ) {
        self.config = config
        self.clock = clock
        self.pacer = CleanerPacer(settings: config.pacing, activity: activity, clock: pacingClock)
        self.ioThrottle = ioThrottle
            ?? CleanerIoThrottle(maxBytesPerSecond: config.maxIoBytesPerSecond, clock: pacingClock)
    }

    /// Makes the round in progress (and every later one) end with `Aborted` at its next segment. Any thread.
    public func requestStop() {
        stopRequested.store(true, ordering: .releasing)
    }

    var shouldStop: Bool { stopRequested.load(ordering: .acquiring) }

    /// Cleans `log` from `firstDirtyOffset` up to (at most) `firstUncleanableOffset`. Returns the offset up to which
    /// the log is now clean (the next round's first dirty offset) and the round's statistics.
    /// Throws `Aborted` when the log closed or changed, and what reading or writing throws (corrupt batches).
    public func clean(
        _ log: PartitionLog, firstDirtyOffset: Int64, firstUncleanableOffset: Int64
    ) throws -> (endOffset: Int64, stats: Stats) {
        let started = clock.nowMs()
        let now = started
        var stats = Stats()
        roundPausedNs = 0
        roundThrottledNs = 0
        pacer.beginWork()
        let budget = max(DecompressionBudget.minimumAppendLimit, log.config.maxMessageBytes &* 16)
        guard var round = try planRound(
            log, firstDirtyOffset: firstDirtyOffset, firstUncleanableOffset: firstUncleanableOffset, nowMs: now,
            budget: budget, stats: &stats)
        else { return (firstDirtyOffset, stats) }
        // The groups are the only references to the replaced segments the cleaner keeps, each dropped by the thread
        // that swapped it, so replaced segments close (and their page cache is freed) on the rewriting threads,
        // overlapping the other thread's work.
        let groups = GroupSlots(round.groups)
        round.groups = []
        try cleanGroups(
            groups, of: log, retention: round.retention, verdicts: round.verdicts, upperBound: round.upperBound,
            budget: budget, stats: &stats)
        stats.elapsedMs = clock.nowMs().saturatingSubtract(started)
        stats.pausedMs = roundPausedNs / 1_000_000
        stats.throttledMs = roundThrottledNs / 1_000_000
        return (round.endOffset, stats)
    }

    /// What a round cleans: the groups of segments to rewrite, what survives, and where the round ends.
    private struct Round {
        var groups: [[LogSegment]]
        var retention: CleanerRetention
        /// What the newest-first mapping walk decided for the dirty records (nil after a forward walk).
        var verdicts: CleanerDirtyVerdicts?
        var upperBound: Int64
        var endOffset: Int64
    }

    /// Maps the dirty range and groups the segments to rewrite; nil when there is nothing to clean.
    private func planRound(
        _ log: PartitionLog, firstDirtyOffset: Int64, firstUncleanableOffset: Int64, nowMs: Int64, budget: Int,
        stats: inout Stats
    ) throws -> Round? {
        let logConfig = log.config
        let current = log.segments
        let inactive = Array(current.dropLast())
        let upper = min(firstUncleanableOffset, current.last?.baseOffset ?? firstUncleanableOffset)
        guard firstDirtyOffset < upper else { return nil }
        let dirty = inactive.enumerated().filter { index, segment in
            segment.baseOffset < upper && (index + 1 >= current.count || current[index + 1].baseOffset > firstDirtyOffset)
        }.map(\.element)
        let (map, verdicts) = try buildOffsetMap(
            dirty, of: log, start: firstDirtyOffset, end: upper, maxDecompressedBytes: budget, stats: &stats)
        let endOffset = map.latestOffset + 1
        guard endOffset > firstDirtyOffset else { return nil }
        let retention = CleanerRetention(
            map: map, nowMs: nowMs, lastDataOffsetOfProducer: log.lastDataOffsetsOfProducers(), upperBoundOffset: upper)
        let rewritten = inactive.filter { $0.baseOffset < endOffset }
        // With the dirty records' verdicts, segments are grouped by the size of their cleaned copies (bounded from
        // the batch headers) rather than their own, so a round whose dirty segments mostly go swaps in a few
        // groups instead of one per segment.
        let sizes = try verdicts.map { verdicts in
            try rewritten.map { try verdicts.outputBound(of: $0, retention: retention) }
        }
        let groups = Self.groupSegments(
            rewritten, sizes: sizes, maxBytes: logConfig.segmentBytes, maxIndexBytes: logConfig.segmentIndexBytes,
            firstUncleanableOffset: upper)
        return Round(
            groups: groups, retention: retention, verdicts: verdicts, upperBound: upper, endOffset: endOffset)
    }

    /// Fills a fresh offset map with the keys of the dirty records, sized for the records present (at most
    /// `dedupeBufferBytes`): newest first, with the verdicts of the records, when the map cannot fill and no
    /// transaction in the range was aborted (`mapNewestFirst`); otherwise in offset order, ending the round where the
    /// map fills.
    private func buildOffsetMap(
        _ dirty: [LogSegment], of log: PartitionLog, start: Int64, end: Int64, maxDecompressedBytes: Int,
        stats: inout Stats
    ) throws -> (OffsetMap, CleanerDirtyVerdicts?) {
        let layout = try Self.dirtyLayout(dirty, start: start, end: end)
        // Records of aborted transactions are not mapped: they must not hide a committed value of their key.
        let aborted = log.abortedTransactions(from: start, upTo: end)
        if mapsNewestFirst, aborted.isEmpty,
           let plan = newestFirstPlan(layout, segments: dirty.count, start: start, end: end)
        {
            var walked = stats
            do {
                let (map, verdicts) = try mapNewestFirst(
                    dirty, layout: layout, threads: plan.threads, mapBytes: plan.mapBytes, start: start, end: end,
                    maxDecompressedBytes: maxDecompressedBytes, stats: &walked)
                stats = walked
                return (map, verdicts)
            } catch is MapCouldNotGrow {}
        }
        let wanted = Int(Double(layout.records) / max(config.loadFactor, 0.01)) + 2
        let bytes = min(config.dedupeBufferBytes, max(wanted, 1024) * OffsetMap.slotSize)
        let map = try OffsetMap(memoryBytes: bytes, loadFactor: config.loadFactor)
        defer { stats.mapBytes = map.memoryBytes }
        stats.mapFull = try mapSegments(
            dirty, into: map, transactions: CleanerTransactions(aborted: aborted), start: start,
            end: end, maxDecompressedBytes: maxDecompressedBytes, stats: &stats)
        stats.mappedKeys = map.size
        return (map, nil)
    }

    /// More records than any offset map holds (a round's record count is saturated at it).
    static let recordCountBound = 1 << 40

    /// Maps `dirty` in order; true when the map filled (the round then ends at the last offset mapped).
    private func mapSegments(
        _ dirty: [LogSegment], into map: OffsetMap, transactions: CleanerTransactions,
        start: Int64, end: Int64, maxDecompressedBytes: Int, stats: inout Stats
    ) throws -> Bool {
        for index in dirty.indices {
            if shouldStop { throw Aborted() }
            let nextStart = index + 1 < dirty.count ? dirty[index + 1].baseOffset : end
            if try mapSegment(dirty[index], into: map, transactions: transactions, start: start, end: end,
                              maxDecompressedBytes: maxDecompressedBytes, stats: &stats)
            {
                return true
            }
            map.updateLatestOffset(min(nextStart, end) - 1)
        }
        return false
    }

    /// Maps the keyed records of `segment` at or after `start` and before `end`; true when the map filled.
    private func mapSegment(
        _ segment: LogSegment, into map: OffsetMap, transactions: CleanerTransactions, start: Int64, end: Int64,
        maxDecompressedBytes: Int, stats: inout Stats
    ) throws -> Bool {
        let (mapping, bytes) = try segment.view()
        return try withExtendedLifetime(mapping) { () throws -> Bool in
            let from = min(segment.offsetIndex.lookup(start).position, bytes.count)
            var walk = RecordBatchSequence(bytes, from: from, check: .structure).makeIterator()
            while let batch = walk.next() {
                let header = batch.header
                if header.baseOffset >= end { return false }
                throttle(header.totalSize)
                stats.bytesRead += header.totalSize
                if header.lastOffset < start { continue }
                let aborted: Bool
                if header.isControl {
                    _ = transactions.onControlBatch(
                        header, marker: ControlRecord.parse(header, in: bytes, at: batch.position),
                        isEmpty: header.recordCount <= 0)
                    aborted = false
                } else {
                    aborted = transactions.onDataBatch(header)
                }
                if !header.isControl && !aborted && header.recordCount > 0 {
                    var full = false
                    try CleanerRecords.withSection(
                        header, in: bytes, at: batch.position, maxDecompressedBytes: maxDecompressedBytes
                    ) { section in
                        try CleanerRecords.walk(section, header) { record in
                            let offset = header.baseOffset &+ record.offsetDelta
                            guard !full, let key = record.key, offset >= start else { return }
                            if !map.isFull { map.put(KeyHash(key), offset: offset) } else { full = true }
                        }
                    }
                    if full { return true }
                }
                map.updateLatestOffset(header.lastOffset)
            }
            if let stop = walk.stop { throw stop.error }
            return false
        }
    }

    /// Kafka's `groupSegmentsBySize`; `sizes` (one per segment) replaces the segments' sizes when given (bounds of
    /// their cleaned copies).
    static func groupSegments(
        _ segments: [LogSegment], sizes: [Int]? = nil, maxBytes: Int, maxIndexBytes: Int,
        firstUncleanableOffset: Int64
    ) -> [[LogSegment]] {
        let sizes = sizes ?? segments.map(\.size)
        var groups: [[LogSegment]] = []
        var index = 0
        while index < segments.count {
            var group = [segments[index]]
            var logBytes = sizes[index]
            var offsetIndexBytes = segments[index].offsetIndex.file.count * OffsetIndex.entrySize
            var timeIndexBytes = segments[index].timeIndex.file.count * TimeIndex.entrySize
            index += 1
            while index < segments.count {
                let next = segments[index]
                let lastOffset = index + 1 < segments.count ? segments[index + 1].baseOffset - 1 : firstUncleanableOffset - 1
                let nextOffsetIndex = next.offsetIndex.file.count * OffsetIndex.entrySize
                let nextTimeIndex = next.timeIndex.file.count * TimeIndex.entrySize
                guard logBytes + sizes[index] <= maxBytes, offsetIndexBytes + nextOffsetIndex <= maxIndexBytes,
                      timeIndexBytes + nextTimeIndex <= maxIndexBytes,
                      next.size == 0 || lastOffset - group[0].baseOffset <= Int64(Int32.max)
                else { break }
                group.append(next)
                logBytes += sizes[index]
                offsetIndexBytes += nextOffsetIndex
                timeIndexBytes += nextTimeIndex
                index += 1
            }
            groups.append(group)
        }
        return groups
    }

    /// The max timestamp of the batch written (a rewritten batch may have a lower one).
    static func maxTimestamp(_ original: UnsafeRawBufferPointer?, _ rewritten: [UInt8], fallback: Int64) -> Int64 {
        if original != nil || rewritten.isEmpty { return fallback }
        return rewritten.withUnsafeBytes { RecordBatchSequence.header(in: $0, at: 0)?.maxTimestamp ?? fallback }
    }

    /// Counts `bytes` of read or written data: the pacer may pause to yield to the foreground, and the I/O
    /// throttle to keep all cleaners under `log.cleaner.io.max.bytes.per.second`.
    /// Thread-safe: the threads rewriting a round's groups pace together.
    func throttle(_ bytes: Int) {
        throttleLock.withLock {
            roundPausedNs &+= pacer.account(bytes)
            roundThrottledNs &+= ioThrottle.account(bytes)
        }
    }
}
