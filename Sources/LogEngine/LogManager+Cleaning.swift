/// The log cleaner's bookkeeping for one data directory (Kafka's `LogCleanerManager`): which compacted log to
/// clean next, which are being cleaned, and the `cleaner-offset-checkpoint` file (Kafka's checkpoint format, see
/// `OffsetCheckpointFile`) holding each compacted partition's first dirty offset.
extension LogManager {
    public static let cleanerCheckpointName = "cleaner-offset-checkpoint"

    /// A compacted log's state as the cleaner sees it (Kafka's `LogToClean`).
    public struct LogToClean: Sendable {
        public var partition: TopicPartition
        public var log: PartitionLog
        public var range: PartitionLog.CleanableRange
        /// Bytes below the first dirty offset.
        public var cleanBytes: Int
        /// Bytes from the first dirty offset to the first uncleanable segment.
        public var cleanableBytes: Int
        /// `max.compaction.lag.ms` has passed for some dirty segment.
        public var needsCompactionNow: Bool

        /// Share of the log that is dirty and cleanable (0 for an empty log).
        public var dirtyRatio: Double {
            let total = cleanBytes + cleanableBytes
            return total > 0 ? Double(cleanableBytes) / Double(total) : 0
        }
    }

    /// The outcome of one cleaning round.
    public struct CleaningRound: Sendable {
        public var partition: TopicPartition
        public var firstDirtyOffset: Int64
        public var endOffset: Int64
        public var dirtyRatio: Double
        public var stats: LogCleaner.Stats
    }

    /// Cleaner state, owned by `LogManager.cleaning`'s lock.
    struct CleaningState {
        /// First dirty offset per compacted partition (the checkpoint's content); nil until first read.
        var checkpoint: [TopicPartition: Int64]? = nil
        var inProgress: Set<TopicPartition> = []
        /// Partitions whose cleaning failed (corrupt data): skipped until the broker restarts, as in Kafka.
        var uncleanable: Set<TopicPartition> = []
        /// Totals for metrics.
        var rounds = 0
        var failures = 0
        var bytesRead = 0
        var bytesWritten = 0
        var lastRoundMs: Int64 = 0
        var lastCleanMs: [TopicPartition: Int64] = [:]
    }

    var cleanerCheckpointFile: OffsetCheckpointFile {
        OffsetCheckpointFile(directory: directory, name: Self.cleanerCheckpointName)
    }

    /// The checkpointed first dirty offsets. Caller holds `cleaning`'s lock.
    private func loadedCheckpoint(_ state: inout CleaningState) -> [TopicPartition: Int64] {
        if let checkpoint = state.checkpoint { return checkpoint }
        let read = (try? cleanerCheckpointFile.read()) ?? [:]
        state.checkpoint = read
        return read
    }

    /// Every compacted log with its cleanable range and dirty ratio (for metrics and `grabFilthiestLog`).
    public func compactedLogs(nowMs: Int64? = nil) -> [LogToClean] {
        let now = nowMs ?? clock.nowMs()
        let checkpoint = cleaning.withLock { loadedCheckpoint(&$0) }
        var result: [LogToClean] = []
        for (partition, log) in allLogs where log.config.compact {
            guard let range = try? log.cleanableRange(lastCleanOffset: checkpoint[partition], nowMs: now) else {
                continue
            }
            let (clean, cleanable) = log.cleanAndCleanableBytes(range)
            let delay = log.maxCompactionDelay(firstDirtyOffset: range.firstDirtyOffset, nowMs: now)
            result.append(LogToClean(
                partition: partition, log: log, range: range, cleanBytes: clean, cleanableBytes: cleanable,
                needsCompactionNow: delay > 0))
        }
        return result
    }

    /// The compacted log most worth cleaning, marked in progress: among logs not being cleaned and not
    /// uncleanable, those whose dirty ratio exceeds `min.cleanable.dirty.ratio` or that `max.compaction.lag.ms`
    /// forces (with cleanable bytes), the one with the highest dirty ratio. Nil when none qualifies.
    public func grabFilthiestLog(nowMs: Int64? = nil) -> LogToClean? {
        let candidates = compactedLogs(nowMs: nowMs)
        return cleaning.withLock { state -> LogToClean? in
            var checkpoint = loadedCheckpoint(&state)
            var best: LogToClean? = nil
            for candidate in candidates {
                if candidate.range.checkpointReset { checkpoint[candidate.partition] = candidate.range.firstDirtyOffset }
                guard !state.inProgress.contains(candidate.partition), !state.uncleanable.contains(candidate.partition),
                      candidate.cleanBytes + candidate.cleanableBytes > 0,
                      (candidate.needsCompactionNow && candidate.cleanableBytes > 0)
                        || candidate.dirtyRatio > candidate.log.config.minCleanableDirtyRatio
                else { continue }
                if best == nil || candidate.dirtyRatio > best!.dirtyRatio { best = candidate }
            }
            state.checkpoint = checkpoint
            if let best { state.inProgress.insert(best.partition) }
            return best
        }
    }

    /// Runs one cleaning round with `cleaner` on the filthiest compacted log, checkpoints its new first dirty
    /// offset, and returns what it did; nil when no log needs cleaning. A failed round marks the partition
    /// uncleanable (until restart) and rethrows; an abandoned one (log closed or changed) returns nil.
    /// Thread-safety: callable from any thread; concurrent callers (cleaner threads) clean different logs.
    public func cleanFilthiestLog(with cleaner: LogCleaner) throws -> CleaningRound? {
        guard let target = grabFilthiestLog() else { return nil }
        defer { cleaning.withLock { _ = $0.inProgress.remove(target.partition) } }
        do {
            let (end, stats) = try cleaner.clean(
                target.log, firstDirtyOffset: target.range.firstDirtyOffset,
                firstUncleanableOffset: target.range.firstUncleanableOffset)
            let now = clock.nowMs()
            try cleaning.withLock { state in
                var checkpoint = loadedCheckpoint(&state)
                // The log may have been deleted meanwhile: its entry stays out.
                if self.log(for: target.partition) === target.log { checkpoint[target.partition] = end }
                state.checkpoint = checkpoint
                state.rounds += 1
                state.bytesRead += stats.bytesRead
                state.bytesWritten += stats.bytesWritten
                state.lastRoundMs = stats.elapsedMs
                state.lastCleanMs[target.partition] = now
                try cleanerCheckpointFile.write(checkpoint)
            }
            return CleaningRound(
                partition: target.partition, firstDirtyOffset: target.range.firstDirtyOffset, endOffset: end,
                dirtyRatio: target.dirtyRatio, stats: stats)
        } catch is LogCleaner.Aborted {
            return nil
        } catch {
            cleaning.withLock { state in
                state.failures += 1
                state.uncleanable.insert(target.partition)
            }
            throw error
        }
    }

    /// Cleaner totals for metrics: rounds, failures, bytes read and written, last round's duration (ms), and per
    /// compacted partition the time of its last clean (ms since the epoch).
    public var cleanerTotals: (rounds: Int, failures: Int, bytesRead: Int, bytesWritten: Int, lastRoundMs: Int64,
                               lastCleanMs: [TopicPartition: Int64]) {
        cleaning.withLock { ($0.rounds, $0.failures, $0.bytesRead, $0.bytesWritten, $0.lastRoundMs, $0.lastCleanMs) }
    }

    /// Drops `partition` from the cleaner checkpoint (its log was deleted).
    func forgetCleanerState(of partition: TopicPartition) {
        cleaning.withLock { state in
            var checkpoint = loadedCheckpoint(&state)
            guard checkpoint.removeValue(forKey: partition) != nil else { return }
            state.checkpoint = checkpoint
            state.uncleanable.remove(partition)
            try? cleanerCheckpointFile.write(checkpoint)
        }
    }
}
