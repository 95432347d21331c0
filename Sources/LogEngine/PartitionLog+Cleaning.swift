/// What the log cleaner asks of a partition log, and the swap of cleaned segments (Kafka's
/// `LocalLog.replaceSegments`).
extension PartitionLog {
    /// The range a cleaning round may clean (Kafka's `LogCleanerManager.cleanableOffsets`).
    public struct CleanableRange: Sendable, Equatable {
        /// Where uncleaned data begins: the checkpointed offset, or the log start offset when there is none or it
        /// no longer lies inside the log.
        public var firstDirtyOffset: Int64
        /// The first offset not cleaned: the lowest of the last stable offset, the active segment's base offset and
        /// the base offset of the first segment holding a record newer than `min.compaction.lag.ms`.
        public var firstUncleanableOffset: Int64
        /// The checkpointed offset was unusable and should be replaced by `firstDirtyOffset`.
        public var checkpointReset: Bool
    }

    /// The cleanable range given the cleaner checkpoint's `lastCleanOffset` (nil when absent).
    /// Thread-safety: callable from any thread (reads published values and inactive segments).
    public func cleanableRange(lastCleanOffset: Int64?, nowMs: Int64) throws -> CleanableRange {
        let current = segments
        let start = logStartOffset
        var firstDirty = lastCleanOffset ?? start
        var reset = false
        if firstDirty < start || firstDirty > logEndOffset {
            firstDirty = start
            reset = true
        }
        var uncleanable = min(lastStableOffset, current.last?.baseOffset ?? start)
        let lag = max(config.minCompactionLagMs, 0)
        if lag > 0 {
            for segment in Self.inactiveSegments(current, from: firstDirty) {
                try segment.ensureLoaded()
                if segment.largestTimestamp > nowMs.saturatingSubtract(lag) {
                    uncleanable = min(uncleanable, segment.baseOffset)
                    break
                }
            }
        }
        return CleanableRange(
            firstDirtyOffset: firstDirty, firstUncleanableOffset: max(firstDirty, uncleanable), checkpointReset: reset)
    }

    /// How long past `max.compaction.lag.ms` the oldest dirty segment is (ms; 0 when it is not), measured from the
    /// first batch's timestamp of each inactive dirty segment (Kafka's `maxCompactionDelay`).
    public func maxCompactionDelay(firstDirtyOffset: Int64, nowMs: Int64) -> Int64 {
        let lag = max(config.maxCompactionLagMs, 0)
        guard lag < Int64.max else { return 0 }
        let current = segments
        var earliest = Int64.max
        for segment in Self.inactiveSegments(current, from: firstDirtyOffset) {
            if let timestamp = segment.firstBatchTimestamp, timestamp > 0 { earliest = min(earliest, timestamp) }
        }
        let cleanUntil = nowMs.saturatingSubtract(lag)
        return earliest < cleanUntil ? cleanUntil - earliest : 0
    }

    /// Bytes below the first dirty offset, and bytes from it up to the segment holding the first uncleanable offset
    /// (Kafka's `LogToClean` clean and cleanable bytes).
    public func cleanAndCleanableBytes(_ range: CleanableRange) -> (clean: Int, cleanable: Int) {
        let current = segments
        // The first uncleanable segment: the inactive one holding the offset, else the active one.
        var uncleanableBase = current.last?.baseOffset ?? 0
        if let index = Self.floorSegment(current, range.firstUncleanableOffset), index < current.count - 1 {
            uncleanableBase = current[index].baseOffset
        }
        var clean = 0
        var cleanable = 0
        for (index, segment) in current.enumerated() {
            let nextBase = index + 1 < current.count ? current[index + 1].baseOffset : Int64.max
            if nextBase <= range.firstDirtyOffset {
                clean += segment.size
            } else if segment.baseOffset < uncleanableBase {
                // Kafka counts the segment holding the first dirty offset with both (from min(dirty, uncleanable)).
                if segment.baseOffset < range.firstDirtyOffset { clean += segment.size }
                cleanable += segment.size
            }
        }
        return (clean, cleanable)
    }

    /// The inactive segments from the one holding `offset` on (Kafka's `nonActiveLogSegmentsFrom`).
    static func inactiveSegments(_ list: [LogSegment], from offset: Int64) -> ArraySlice<LogSegment> {
        guard list.count > 1 else { return [] }
        let start = floorSegment(list, offset) ?? 0
        return list[min(start, list.count - 1)..<(list.count - 1)]
    }

    /// The last data offset of every idempotent producer the log tracks: the batch ending there keeps its place
    /// through cleaning (sequence continuity).
    func lastDataOffsetsOfProducers() -> [Int64: Int64] {
        writer.withLock { state in
            state.producerState.producers.compactMapValues { $0.lastOffset >= 0 ? $0.lastOffset : nil }
        }
    }

    /// Whether the log is closed (the cleaner abandons a round when it is).
    var isClosed: Bool { writer.withLock { $0.closed } }

    /// The step of a swap after which `replaceWithCleaned`'s `hook` runs (tests simulate crashes there).
    enum SwapStep: Int, Sendable {
        /// The cleaned segment is renamed `.swap` and the directory fsynced.
        case renamedToSwap = 1
        /// The replaced segments are unpublished and renamed `.deleted`/unlinked; the new one is still `.swap`.
        case deletedOld = 2
    }

    /// Replaces `old` (consecutive inactive segments, still in the log) by `cleaned` (whose files end in
    /// `.cleaned`, fsynced; its `.txnindex` holds `abortedTransactions`), crash-safely: `.cleaned` → `.swap`
    /// (directory fsynced); under the writer lock the new list is published, the old segments are renamed
    /// `.deleted` and unlinked and `.swap` is renamed to the final names; the directory is fsynced last. Opening the log after a crash at any step completes or discards the
    /// swap (see `completeInterruptedSwaps`). Readers holding old segments keep reading them. The aborted
    /// transactions whose markers lay in the old segments are replaced by `abortedTransactions` for
    /// read_committed fetches.
    /// Returns false (and removes `cleaned`'s files) when the old segments changed meanwhile or the log closed.
    func replaceWithCleaned(
        _ old: [LogSegment], _ cleaned: LogSegment, abortedTransactions: [AbortedTransaction] = [],
        hook: ((SwapStep) throws -> Void)? = nil
    ) throws -> Bool {
        guard let first = old.first else { return false }
        do {
            try cleaned.changeFileSuffix(from: ".cleaned", to: ".swap")
            try FileSystem.syncDirectory(directory)
        } catch {
            cleaned.deleteFiles()
            throw error
        }
        try hook?(.renamedToSwap)
        let swapped: Bool = try writer.withLock { state in
            let list = state.segments
            guard !state.closed, let start = list.firstIndex(where: { $0 === first }),
                  start + old.count < list.count,
                  zip(list[start..<(start + old.count)], old).allSatisfy({ $0 === $1 })
            else { return false }
            var replaced = list
            replaced.replaceSubrange(start..<(start + old.count), with: [cleaned])
            replaceSegments(replaced, in: &state)
            let replacedRange = first.baseOffset..<list[start + old.count].baseOffset
            abortedIndex.withLock { entries in
                let at = entries.firstIndex { $0.lastOffset >= replacedRange.lowerBound } ?? entries.count
                entries.removeAll { replacedRange.contains($0.lastOffset) }
                entries.insert(contentsOf: abortedTransactions, at: min(at, entries.count))
            }
            state.directoryNeedsSync = true
            for segment in old { try segment.delete() }
            try hook?(.deletedOld)
            try cleaned.changeFileSuffix(from: ".swap", to: "")
            return true
        }
        guard swapped else {
            cleaned.deleteFiles()
            return false
        }
        try FileSystem.syncDirectory(directory)
        return true
    }
}
