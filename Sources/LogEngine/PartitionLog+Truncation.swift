extension PartitionLog {
    /// The step of a truncation after which `truncate(to:hook:)`'s hook runs (tests simulate crashes there).
    enum TruncationStep: Int, Sendable {
        /// The segments above the truncation point are deleted.
        case deletedHigherSegments = 1
        /// The cut copy of the segment holding the truncation point is written and renamed `.swap`.
        case wroteSwap = 2
    }

    /// Removes every batch from the one holding `offset` on, as Kafka's `UnifiedLog.truncateTo` (a follower
    /// truncating to its leader's epoch end): segments above it, the tail of the segment holding it, producer
    /// snapshots above the new end (the producer state is reloaded from the newest remaining snapshot and the
    /// batches after it), aborted transactions and leader epochs at or above the new end. The high watermark,
    /// last stable offset and recovery point move down to the new end when above it. Below the first segment,
    /// the whole log goes (`truncateFullyAndStartAt(_:)`). Returns whether anything was removed.
    ///
    /// Crash-safe: higher segments are deleted newest first, so a crash leaves a prefix of the log; the holding
    /// segment is cut by writing its kept prefix to a `.cleaned` copy (with its `.txnindex`), renamed `.swap`
    /// and swapped in as the cleaner does, so opening the log after a crash at any step finds the old segment or
    /// the cut one (`completeInterruptedSwaps`). Readers holding old segments keep reading them.
    ///
    /// Thread-safety: callable from any thread; serialised with appends.
    @discardableResult
    public func truncate(to offset: Int64) throws -> Bool {
        try truncate(to: offset, hook: nil)
    }

    func truncate(to offset: Int64, hook: ((TruncationStep) throws -> Void)?) throws -> Bool {
        guard offset >= 0 else {
            throw LogEngineError(.invalidArgument, "negative truncation offset \(offset)", context: directory)
        }
        let removed: Bool? = try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            guard offset < logEndOffset else { return false }
            guard let first = state.segments.first, first.baseOffset <= offset else { return nil }
            // Newest first: a crash between two deletions leaves a shorter, still contiguous log.
            var list = state.segments
            while list.count > 1, let last = list.last, last.baseOffset > offset {
                list.removeLast()
                replaceSegments(list, in: &state)
                try last.delete()
            }
            state.directoryNeedsSync = true
            try hook?(.deletedHigherSegments)
            let holding = list[list.count - 1]
            let cut = try cutCopy(of: holding, before: offset)
            try hook?(.wroteSwap)
            list[list.count - 1] = cut.segment
            replaceSegments(list, in: &state)
            try holding.delete()
            try cut.segment.changeFileSuffix(from: ".swap", to: "")
            state.active = cut.writerState
            try FileSystem.syncDirectory(directory)
            try reloadAfterTruncation(end: cut.end, state: &state)
            return true
        }
        guard let removed else {
            try truncateFullyAndStartAt(offset)
            return true
        }
        return removed
    }

    /// Removes the whole log and starts it empty at `offset` (Kafka's `truncateFullyAndStartAt`, for a replica
    /// whose log no longer overlaps its leader's): every segment, producer snapshot, aborted transaction and
    /// epoch entry goes; log start, log end, high watermark and last stable offset become `offset`.
    /// Crash-safe: segments are deleted newest first, then the new one is created; a crash leaves a prefix of the
    /// old log or an empty one.
    ///
    /// Thread-safety: callable from any thread; serialised with appends.
    public func truncateFullyAndStartAt(_ offset: Int64) throws {
        guard offset >= 0, offset <= Int64.max - Int64(UInt32.max) else {
            throw LogEngineError(.invalidArgument, "invalid start offset \(offset)", context: directory)
        }
        try writer.withLock { state in
            guard !state.closed else { throw LogEngineError(.closed, "log is closed", context: directory) }
            var updated = epochs.withLock { $0 }
            if updated.truncateFromEnd(0) {
                try updated.write(directory: directory)
                epochs.withLock { $0 = updated }
            }
            state.latestEpochEntry = nil
            // Readers keep the old list (its files stay readable through their descriptors) until the new
            // segment replaces it.
            for segment in state.segments.reversed() { try segment.delete() }
            for snapshot in try ProducerStateSnapshot.offsets(in: directory) {
                try FileSystem.unlink(ProducerStateSnapshot.path(directory: directory, offset: snapshot))
            }
            let fresh = try LogSegment.create(directory: directory, baseOffset: offset, config: config, nowMs: clock.nowMs())
            try fresh.becomeActive()
            state.active = fresh.storedWriterState
            replaceSegments([fresh], in: &state)
            try FileSystem.syncDirectory(directory)
            state.producerState = ProducerStateManager()
            state.producerSnapshotOffset = nil
            state.producerStateChanged = false
            state.unsyncedSnapshots = state.unsyncedSnapshots.filter(FileSystem.exists)
            abortedIndex.withLock { $0 = [] }
            publishTruncation(end: offset, start: offset, firstUnstableOffset: nil)
        }
    }

    /// Writes the batches of `segment` below the one holding `offset` to a `.cleaned` copy with its aborted
    /// transactions, renamed `.swap` (directory fsynced). Returns the copy, its writer state and its end offset.
    private func cutCopy(
        of segment: LogSegment, before offset: Int64
    ) throws -> (segment: LogSegment, writerState: LogSegment.WriterState, end: Int64) {
        try segment.ensureLoaded()
        let copy = try LogSegment.create(
            directory: directory, baseOffset: segment.baseOffset, config: config, nowMs: clock.nowMs(),
            fileSuffix: ".cleaned")
        var writerState = copy.storedWriterState
        var end = segment.baseOffset
        do {
            let (mapping, bytes) = try segment.view()
            try withExtendedLifetime(mapping) {
                var batches: [LogSegment.AppendedBatch] = []
                var keptBytes = 0
                for batch in RecordBatchSequence(bytes, check: .structure) {
                    let header = batch.header
                    guard header.hasStorableBaseOffset, header.lastOffset < offset else { break }
                    batches.append(.init(
                        relativePosition: batch.position, size: header.totalSize, lastOffset: header.lastOffset,
                        maxTimestamp: header.maxTimestamp))
                    keptBytes = batch.end
                    end = header.nextOffset
                }
                if keptBytes > 0 {
                    try copy.append(UnsafeRawBufferPointer(rebasing: bytes[0..<keptBytes]), batches: batches, state: &writerState)
                }
            }
            try copy.flush()
            let cutEnd = end
            try copy.writeTransactionIndex(abortedIndex.withLock { entries in
                entries.filter { $0.lastOffset >= segment.baseOffset && $0.lastOffset < cutEnd }
            })
            try copy.changeFileSuffix(from: ".cleaned", to: ".swap")
            try FileSystem.syncDirectory(directory)
        } catch {
            copy.deleteFiles()
            throw error
        }
        return (copy, writerState, end)
    }

    /// After the segments were cut at `end`: reloads the producer state and aborted transactions, cuts the epoch
    /// cache and publishes the new offsets. Caller holds the writer lock.
    private func reloadAfterTruncation(end: Int64, state: inout WriterState) throws {
        let loaded = try Self.loadProducerState(
            directory: directory, segments: state.segments, logEndOffset: end, nowMs: clock.nowMs(), config: config)
        state.producerState = loaded.state
        state.producerSnapshotOffset = loaded.snapshotOffset
        state.producerStateChanged = loaded.changed
        state.unsyncedSnapshots = state.unsyncedSnapshots.filter(FileSystem.exists)
        abortedIndex.withLock { $0 = loaded.aborted }
        try truncateEpochs(fromEnd: end, state: &state)
        publishTruncation(
            end: end, start: min(logStartOffset, end), firstUnstableOffset: loaded.state.firstUnstableOffset)
    }
}
