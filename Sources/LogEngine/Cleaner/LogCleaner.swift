import Atomics

/// One cleaner (Kafka's `Cleaner`): cleans one compacted log at a time, keeping the latest record of every key.
///
/// A round over `[firstDirtyOffset, firstUncleanableOffset)`:
/// 1. the offset map is filled with the keys of the dirty records (key hash → latest offset), records of aborted
///    transactions left out; when it is full the round ends at the last offset mapped (`endOffset`), and the next
///    round continues from there;
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
/// threads): the two halves of the dirty range are mapped at once when neither half's map can fill and no
/// transaction in the range was aborted, and groups are rewritten at once and swapped in log order
/// (`CleanerGroupPipeline`). Memory: the offset map (at most `dedupeBufferBytes`, two half-size maps when mapping in
/// halves), and per rewriting thread one output chunk and one batch.
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
        guard let round = try planRound(
            log, firstDirtyOffset: firstDirtyOffset, firstUncleanableOffset: firstUncleanableOffset, nowMs: now,
            budget: budget, stats: &stats)
        else { return (firstDirtyOffset, stats) }
        // The round's segment lists are gone with `planRound`: the groups are the only references the cleaner keeps,
        // each dropped by the thread that swapped it, so replaced segments close (and their page cache is freed)
        // on the rewriting threads.
        try cleanGroups(
            GroupSlots(round.groups), of: log, retention: round.retention, upperBound: round.upperBound,
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
        let map = try buildOffsetMap(
            dirty, of: log, start: firstDirtyOffset, end: upper, maxDecompressedBytes: budget, stats: &stats)
        let endOffset = map.latestOffset + 1
        guard endOffset > firstDirtyOffset else { return nil }
        let retention = CleanerRetention(
            map: map, nowMs: nowMs, lastDataOffsetOfProducer: log.lastDataOffsetsOfProducers(), upperBoundOffset: upper)
        let groups = Self.groupSegments(
            inactive.filter { $0.baseOffset < endOffset }, maxBytes: logConfig.segmentBytes,
            maxIndexBytes: logConfig.segmentIndexBytes, firstUncleanableOffset: upper)
        return Round(groups: groups, retention: retention, upperBound: upper, endOffset: endOffset)
    }

    /// Fills a fresh offset map with the keys of the dirty records, sized for the records present (at most
    /// `dedupeBufferBytes`).
    private func buildOffsetMap(
        _ dirty: [LogSegment], of log: PartitionLog, start: Int64, end: Int64, maxDecompressedBytes: Int,
        stats: inout Stats
    ) throws -> OffsetMap {
        var records = 0
        for segment in dirty {
            try segment.ensureLoaded()
            let (mapping, bytes) = try segment.view()
            withExtendedLifetime(mapping) {
                for batch in RecordBatchSequence(bytes) where batch.header.lastOffset >= start {
                    if batch.header.baseOffset >= end { break }
                    // Counts read from disk: saturated at a bound no map reaches, so the sizing below cannot trap.
                    records = min(records &+ Int(max(batch.header.recordCount, 0)), Self.recordCountBound)
                }
            }
        }
        let wanted = Int(Double(records) / max(config.loadFactor, 0.01)) + 2
        // Records of aborted transactions are not mapped: they must not hide a committed value of their key.
        let aborted = log.abortedTransactions(from: start, upTo: end)
        // Two halves of the dirty segments are mapped at once when their maps, each of half the dedupe buffer,
        // cannot fill (so the round ends where a single map would end it) and no transaction was aborted (the
        // transaction state is walked in offset order).
        let halfBytes = min(config.dedupeBufferBytes / 2, max(wanted, 1024) * OffsetMap.slotSize)
        if config.groupWorkers > 1, dirty.count >= 2, aborted.isEmpty,
           records < OffsetMap.entryBound(slots: halfBytes / OffsetMap.slotSize, loadFactor: config.loadFactor)
        {
            return try buildOffsetMapInHalves(
                dirty, memoryBytes: halfBytes, start: start, end: end, maxDecompressedBytes: maxDecompressedBytes,
                stats: &stats)
        }
        let bytes = min(config.dedupeBufferBytes, max(wanted, 1024) * OffsetMap.slotSize)
        let map = try OffsetMap(memoryBytes: bytes, loadFactor: config.loadFactor)
        defer { stats.mapBytes = map.memoryBytes }
        stats.mapFull = try mapSegments(
            dirty, 0..<dirty.count, into: map, transactions: CleanerTransactions(aborted: aborted), start: start,
            end: end, maxDecompressedBytes: maxDecompressedBytes, stats: &stats)
        stats.mappedKeys = map.size
        return map
    }

    /// More records than any offset map holds (a round's record count is saturated at it).
    static let recordCountBound = 1 << 40

    /// Maps `dirty[range]` in order; true when the map filled (the round then ends at the last offset mapped).
    private func mapSegments(
        _ dirty: [LogSegment], _ range: Range<Int>, into map: OffsetMap, transactions: CleanerTransactions,
        start: Int64, end: Int64, maxDecompressedBytes: Int, stats: inout Stats
    ) throws -> Bool {
        for index in range {
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

    /// Maps the first and the second half of `dirty` on two threads, each into a map of `memoryBytes` that
    /// cannot fill, then merges the second into the first (its offsets are the later ones).
    private func buildOffsetMapInHalves(
        _ dirty: [LogSegment], memoryBytes: Int, start: Int64, end: Int64, maxDecompressedBytes: Int,
        stats: inout Stats
    ) throws -> OffsetMap {
        let halves = [0..<(dirty.count / 2), (dirty.count / 2)..<dirty.count]
        let maps = [try OffsetMap(memoryBytes: memoryBytes, loadFactor: config.loadFactor),
                    try OffsetMap(memoryBytes: memoryBytes, loadFactor: config.loadFactor)]
        // The pipeline runs the two halves at once; its in-order step adds their bytes read.
        try CleanerGroupPipeline.run(
            groups: 2, workers: 2,
            rewrite: { index -> Int in
                var local = Stats()
                let filled = try mapSegments(
                    dirty, halves[index], into: maps[index], transactions: CleanerTransactions(aborted: []),
                    start: start, end: end, maxDecompressedBytes: maxDecompressedBytes, stats: &local)
                // The batches' record counts bound their keys (the record walk refuses more), so a filled half
                // means the segments changed under the round.
                if filled { throw Self.uncountedKeys }
                return local.bytesRead
            },
            swap: { bytesRead in stats.bytesRead += bytesRead }, discard: { _ in })
        stats.mapBytes = maps[0].memoryBytes + maps[1].memoryBytes
        let map = maps[0]
        guard map.merge(maps[1]) else { throw Self.uncountedKeys }
        stats.mappedKeys = map.size
        return map
    }

    private static var uncountedKeys: LogEngineError {
        LogEngineError(.corruptBatch, "the dirty range holds more keys than its batches count")
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

    /// Kafka's `groupSegmentsBySize`.
    static func groupSegments(
        _ segments: [LogSegment], maxBytes: Int, maxIndexBytes: Int, firstUncleanableOffset: Int64
    ) -> [[LogSegment]] {
        var groups: [[LogSegment]] = []
        var index = 0
        while index < segments.count {
            var group = [segments[index]]
            var logBytes = segments[index].size
            var offsetIndexBytes = segments[index].offsetIndex.file.count * OffsetIndex.entrySize
            var timeIndexBytes = segments[index].timeIndex.file.count * TimeIndex.entrySize
            index += 1
            while index < segments.count {
                let next = segments[index]
                let lastOffset = index + 1 < segments.count ? segments[index + 1].baseOffset - 1 : firstUncleanableOffset - 1
                let nextOffsetIndex = next.offsetIndex.file.count * OffsetIndex.entrySize
                let nextTimeIndex = next.timeIndex.file.count * TimeIndex.entrySize
                guard logBytes + next.size <= maxBytes, offsetIndexBytes + nextOffsetIndex <= maxIndexBytes,
                      timeIndexBytes + nextTimeIndex <= maxIndexBytes,
                      next.size == 0 || lastOffset - group[0].baseOffset <= Int64(Int32.max)
                else { break }
                group.append(next)
                logBytes += next.size
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
