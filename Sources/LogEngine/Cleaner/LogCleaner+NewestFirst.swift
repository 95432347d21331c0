/// The newest-first mapping walk: one pass over the dirty records that fills the offset map and also decides, for
/// every record, whether it is its key's latest (`CleanerDirtyVerdicts`), so the rewrite does not hash and look up
/// the dirty keys a second time, and copies or drops a batch whose records all stay or all go without reading it.
///
/// Batches are visited from the newest to the oldest (their positions collected from the headers of one segment at
/// a time) and the records of each batch in order: the first batch to put a key holds its latest record, and a key
/// seen again in the same batch moves its latest to the later record (`OffsetMap.putNewestFirst`).
///
/// A newest-first walk cannot stop early the way the forward walk does when the map fills (the round must clean a
/// prefix of the dirty range), so it is used only when the map cannot fill: the batch headers count fewer records
/// than the map takes. It also needs no transaction in the range to have been aborted (the transaction state is
/// walked in offset order). With two threads and enough memory the two halves of the dirty segments are walked at
/// once into two maps, then merged; a record of the first half whose key the second half also holds stops being
/// its key's latest.
extension LogCleaner {
    /// The dirty batches' shape, from their headers.
    struct DirtyLayout {
        /// Records the batches count (saturated at `recordCountBound`).
        var records = 0
        /// Most batches in one dirty segment.
        var maxBatchesPerSegment = 0
        /// One past the last offset of the batches that start before the round's end (at least the start).
        var endOffset: Int64
    }

    /// Reads the headers of the dirty batches: `[start, end)` of `dirty`.
    static func dirtyLayout(_ dirty: [LogSegment], start: Int64, end: Int64) throws -> DirtyLayout {
        var layout = DirtyLayout(endOffset: start)
        for segment in dirty {
            try segment.ensureLoaded()
            let (mapping, bytes) = try segment.view()
            var batches = 0
            withExtendedLifetime(mapping) {
                for batch in RecordBatchSequence(bytes) where batch.header.lastOffset >= start {
                    if batch.header.baseOffset >= end { break }
                    // Counts read from disk: saturated at a bound no map reaches, so sizing cannot trap.
                    layout.records = min(layout.records &+ Int(max(batch.header.recordCount, 0)), recordCountBound)
                    layout.endOffset = max(layout.endOffset, batch.header.lastOffset &+ 1)
                    batches &+= 1
                }
            }
            layout.maxBatchesPerSegment = max(layout.maxBatchesPerSegment, batches)
        }
        return layout
    }

    /// How a newest-first walk fits in `dedupeBufferBytes`: the map memory of each walking thread (the flags and
    /// the batch positions come off the buffer first). Nil when the map could fill (the forward walk is used).
    func newestFirstPlan(_ layout: DirtyLayout, segments: Int, start: Int64, end: Int64)
        -> (threads: Int, mapBytes: Int)?
    {
        // The spans' bounds are segment base offsets below `end` and the layout's end offset.
        let flagsBytes = CleanerOffsetFlags.byteCount(offsets: max(layout.endOffset, end) &- start)
        let wanted = Int(Double(layout.records) / max(config.loadFactor, 0.01)) + 2
        for threads in (config.groupWorkers > 1 && segments >= 2 ? [2, 1] : [1]) {
            let positionsBytes = layout.maxBatchesPerSegment.multipliedReportingOverflow(by: 8 * threads)
            guard !positionsBytes.overflow, flagsBytes < config.dedupeBufferBytes,
                  positionsBytes.partialValue < config.dedupeBufferBytes - flagsBytes
            else { continue }
            let budget = config.dedupeBufferBytes - flagsBytes - positionsBytes.partialValue
            let perThread = budget / threads
            let slots = perThread / OffsetMap.slotSize
            if slots >= 2, layout.records < OffsetMap.entryBound(slots: slots, loadFactor: config.loadFactor) {
                return (threads, min(perThread, max(wanted, 1024) * OffsetMap.slotSize))
            }
        }
        return nil
    }

    /// Maps `[start, end)` of `dirty` newest first on `threads` threads into maps of `mapBytes` each (a plan of
    /// `newestFirstPlan`), with the verdicts of the records mapped.
    func mapNewestFirst(
        _ dirty: [LogSegment], layout: DirtyLayout, threads: Int, mapBytes: Int, start: Int64, end: Int64,
        maxDecompressedBytes: Int, stats: inout Stats
    ) throws -> (OffsetMap, CleanerDirtyVerdicts) {
        let halves = threads > 1
            ? [0..<(dirty.count / 2), (dirty.count / 2)..<dirty.count] : [0..<dirty.count]
        let bounds = halves.map { $0.lowerBound == 0 ? start : dirty[$0.lowerBound].baseOffset }
        // The pipeline runs the halves at once; its in-order step collects the walks (one at a time, in order).
        var walks: [NewestFirstWalk] = []
        try CleanerGroupPipeline.run(
            groups: halves.count, workers: threads,
            rewrite: { index -> NewestFirstWalk in
                var walk = NewestFirstWalk(
                    map: try OffsetMap(memoryBytes: mapBytes, loadFactor: config.loadFactor),
                    flags: CleanerOffsetFlags(
                        start: bounds[index], end: index + 1 < bounds.count ? bounds[index + 1] : layout.endOffset))
                try walkNewestFirst(
                    dirty, halves[index], walk: &walk, start: start, end: end,
                    maxDecompressedBytes: maxDecompressedBytes)
                return walk
            },
            swap: { walk in walks.append(walk) }, discard: { _ in })
        let maps = walks.map(\.map)
        var spans = walks.map(\.flags)
        for walk in walks {
            stats.bytesRead += walk.stats.bytesRead
            stats.keylessRemoved += walk.stats.keylessRemoved
        }
        walks.removeAll()
        for later in maps.dropFirst() {
            guard maps[0].merge(later, superseded: { spans[0].clearLatest($0) }) else { throw Self.uncountedKeys }
        }
        stats.newestFirst = true
        stats.mapBytes = maps.reduce(0) { $0 + $1.memoryBytes }
        stats.mappedKeys = maps[0].size
        return (maps[0], CleanerDirtyVerdicts(spans: spans))
    }

    /// One thread's walk: its map, the flags of its span, and what it read.
    struct NewestFirstWalk: @unchecked Sendable {
        var map: OffsetMap
        var flags: CleanerOffsetFlags
        var stats = Stats()
    }

    /// The newest-first walk's map could not grow (its memory could not be allocated).
    struct MapCouldNotGrow: Error {}

    static var uncountedKeys: LogEngineError {
        LogEngineError(.corruptBatch, "the dirty range holds more keys than its batches count")
    }

    /// Walks `dirty[range]` newest first into `walk`.
    private func walkNewestFirst(
        _ dirty: [LogSegment], _ range: Range<Int>, walk: inout NewestFirstWalk, start: Int64, end: Int64,
        maxDecompressedBytes: Int
    ) throws {
        var positions: [Int] = []
        for index in range.reversed() {
            if shouldStop { throw Aborted() }
            let segment = dirty[index]
            let nextStart = index + 1 < dirty.count ? dirty[index + 1].baseOffset : end
            walk.map.updateLatestOffset(min(nextStart, end) - 1)
            let (mapping, bytes) = try segment.view()
            try withExtendedLifetime(mapping) {
                positions.removeAll(keepingCapacity: true)
                let from = min(segment.offsetIndex.lookup(start).position, bytes.count)
                var batches = RecordBatchSequence(bytes, from: from, check: .structure).makeIterator()
                while let batch = batches.next() {
                    if batch.header.baseOffset >= end { break }
                    if batch.header.lastOffset >= start { positions.append(batch.position) }
                }
                if let stop = batches.stop { throw stop.error }
                for position in positions.reversed() {
                    guard let header = RecordBatchSequence.header(in: bytes, at: position) else {
                        throw LogEngineError(.corruptBatch, "a batch header changed while the cleaner read it")
                    }
                    try walkBatch(header, in: bytes, at: position, walk: &walk, start: start,
                                  maxDecompressedBytes: maxDecompressedBytes)
                }
            }
        }
    }

    /// Maps the keyed records of one batch (of the newest-first walk) and flags every record.
    private func walkBatch(
        _ header: RecordBatchHeader, in bytes: UnsafeRawBufferPointer, at position: Int,
        walk: inout NewestFirstWalk, start: Int64, maxDecompressedBytes: Int
    ) throws {
        throttle(header.totalSize)
        walk.stats.bytesRead += header.totalSize
        walk.map.updateLatestOffset(header.lastOffset)
        guard !header.isControl, header.recordCount > 0 else { return }
        let last = header.lastOffset
        try CleanerRecords.withSection(
            header, in: bytes, at: position, maxDecompressedBytes: maxDecompressedBytes
        ) { section in
            try CleanerRecords.walk(section, header) { record in
                let offset = header.baseOffset &+ record.offsetDelta
                guard offset >= start else { return }
                guard walk.flags.contains(offset) else {
                    throw LogEngineError(
                        .corruptBatch, "offset \(offset) lies past the base offset of the segment that follows it")
                }
                let tombstone = !record.hasValue
                guard let key = record.key else {
                    walk.flags.record(offset, latest: false, tombstone: tombstone)
                    walk.stats.keylessRemoved += 1
                    return
                }
                switch walk.map.putNewestFirst(KeyHash(key), offset: offset, batchLastOffset: last) {
                case .inserted:
                    walk.flags.record(offset, latest: true, tombstone: tombstone)
                case .replaced(let previous):
                    walk.flags.clearLatest(previous)
                    walk.flags.record(offset, latest: true, tombstone: tombstone)
                case .laterKept:
                    walk.flags.record(offset, latest: false, tombstone: tombstone)
                case .full:
                    // The plan sized the map for every record counted: only a failed allocation fills it. The
                    // round then maps in order instead, which can end early at a full map.
                    throw MapCouldNotGrow()
                }
            }
        }
    }
}
