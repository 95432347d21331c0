/// The rewrite phase of a cleaning round: each group of segments becomes one `.cleaned` segment, swapped in.
extension LogCleaner {
    /// A round's groups of segments, each handed out once (`take`), so the thread rewriting a group holds the
    /// cleaner's only reference to its segments. Thread-safe.
    final class GroupSlots: @unchecked Sendable {
        private let lock = Lock()
        private var groups: [[LogSegment]?]
        let count: Int

        init(_ groups: [[LogSegment]]) {
            self.groups = groups
            count = groups.count
        }

        func take(_ index: Int) -> [LogSegment] {
            lock.withLock {
                defer { groups[index] = nil }
                return groups[index] ?? []
            }
        }
    }

    /// A group rewritten into a `.cleaned` segment, not swapped in yet.
    struct CleanedGroup {
        var group: [LogSegment]
        var cleaned: LogSegment
        /// The `.txnindex` entries of the abort markers the cleaned segment keeps.
        var abortedTransactions: [AbortedTransaction]
        var counts: CleanerBatchFilter.Counts
        var bytesRead: Int
        var bytesWritten: Int
    }

    /// Rewrites and swaps in every group, on up to `config.groupWorkers` threads, in log order
    /// (`CleanerGroupPipeline`). The swap hook (crash tests) makes it sequential, so a simulated crash happens
    /// at one well-defined step.
    func cleanGroups(
        _ groups: GroupSlots, of log: PartitionLog, retention: CleanerRetention, verdicts: CleanerDirtyVerdicts?,
        upperBound: Int64, budget: Int, stats: inout Stats
    ) throws {
        var merged = stats
        try CleanerGroupPipeline.run(
            groups: groups.count, workers: swapHook == nil ? config.groupWorkers : 1,
            rewrite: { index in
                try rewriteGroup(
                    groups.take(index), of: log, retention: retention, verdicts: verdicts, upperBound: upperBound,
                    budget: budget)
            },
            swap: { cleaned in
                // Swaps run one at a time, in order (the pipeline's lock orders them), so `merged` is not shared.
                merged.bytesRead += cleaned.bytesRead
                merged.bytesWritten += cleaned.bytesWritten
                merged.recordsRead += cleaned.counts.recordsRead
                merged.recordsRetained += cleaned.counts.recordsRetained
                merged.keylessRemoved += cleaned.counts.keylessRemoved
                guard try log.replaceWithCleaned(
                    cleaned.group, cleaned.cleaned, abortedTransactions: cleaned.abortedTransactions, hook: swapHook)
                else { throw Aborted() }
                merged.groups += 1
            },
            discard: { cleaned in cleaned.cleaned.deleteFiles() })
        stats = merged
    }

    /// Rewrites `group` into one `.cleaned` segment (flushed, with the transaction index of the markers it keeps),
    /// taking the dirty records' fate from `verdicts` when the round has them. Thread-safe for different groups of
    /// one round.
    func rewriteGroup(
        _ group: [LogSegment], of log: PartitionLog, retention: CleanerRetention, verdicts: CleanerDirtyVerdicts?,
        upperBound: Int64, budget: Int
    ) throws -> CleanedGroup {
        let logConfig = log.config
        guard let base = group.first?.baseOffset else { throw Aborted() }
        let transactions = CleanerTransactions(aborted: log.abortedTransactions(from: base, upTo: upperBound))
        let cleaned = try LogSegment.create(
            directory: log.directory, baseOffset: base, config: logConfig, nowMs: clock.nowMs(), fileSuffix: ".cleaned")
        var state = cleaned.storedWriterState
        var chunk: [UInt8] = []
        var chunkBatches: [LogSegment.AppendedBatch] = []
        var result = CleanedGroup(
            group: group, cleaned: cleaned, abortedTransactions: [], counts: .init(), bytesRead: 0, bytesWritten: 0)
        func flushChunk() throws {
            guard !chunk.isEmpty else { return }
            try chunk.withUnsafeBytes { try cleaned.append($0, batches: chunkBatches, state: &state) }
            throttle(chunk.count)
            result.bytesWritten += chunk.count
            chunk.removeAll(keepingCapacity: true)
            chunkBatches.removeAll(keepingCapacity: true)
        }
        do {
            for segment in group {
                if log.isClosed || shouldStop { throw Aborted() }
                try segment.ensureLoaded()
                let (mapping, bytes) = try segment.view()
                try withExtendedLifetime(mapping) {
                    var walk = RecordBatchSequence(bytes, check: .structure).makeIterator()
                    while let batch = walk.next() {
                        let header = batch.header
                        throttle(header.totalSize)
                        result.bytesRead += header.totalSize
                        let outcome = try CleanerBatchFilter.filter(
                            header, in: bytes, at: batch.position, retention: retention,
                            verdict: verdicts?.span(covering: header), transactions: transactions,
                            deleteRetentionMs: logConfig.deleteRetentionMs, maxDecompressedBytes: budget,
                            counts: &result.counts)
                        let written: UnsafeRawBufferPointer?
                        var rewritten: [UInt8] = []
                        switch outcome {
                        case .drop: written = nil
                        case .keep: written = UnsafeRawBufferPointer(rebasing: bytes[batch.position..<batch.end])
                        case .rewritten(let batchBytes):
                            rewritten = batchBytes
                            written = nil
                        }
                        let size = written?.count ?? rewritten.count
                        guard size > 0 else { continue }
                        chunkBatches.append(.init(
                            relativePosition: chunk.count, size: size, lastOffset: header.lastOffset,
                            maxTimestamp: Self.maxTimestamp(written, rewritten, fallback: header.maxTimestamp)))
                        if let written { chunk.append(contentsOf: written) } else { chunk += rewritten }
                        if chunk.count >= 1 << 20 { try flushChunk() }
                    }
                    if let stop = walk.stop { throw stop.error }
                }
            }
            try flushChunk()
            try cleaned.becomeInactive(final: state)
            try cleaned.flush()
            try cleaned.writeTransactionIndex(transactions.cleanedIndex)
        } catch {
            cleaned.deleteFiles()
            throw error
        }
        result.abortedTransactions = transactions.cleanedIndex
        return result
    }
}
