extension PartitionLog {
    /// Deletes whole segments, oldest first, never the active one: those entirely below the log start offset,
    /// those whose newest timestamp is older than `retention.ms`, and as many as needed to bring the log under
    /// `retention.bytes`. Files are renamed to `*.deleted`, then unlinked; readers holding a deleted segment
    /// keep reading it. Returns the number of segments deleted.
    @discardableResult
    public func deleteOldSegments() throws -> Int {
        try writer.withLock { state in
            let current = state.segments
            guard current.count > 1 else { return 0 }
            let candidates = current.dropLast()
            let now = clock.nowMs()
            var count = 0
            // Below the log start offset.
            while count < candidates.count, current[count + 1].baseOffset <= logStartOffset { count += 1 }
            // retention.ms
            if config.retentionMs >= 0 {
                var expired = 0
                for segment in candidates {
                    try segment.ensureLoaded()
                    guard now.saturatingSubtract(segment.largestTimestamp) > config.retentionMs else { break }
                    expired += 1
                }
                count = max(count, expired)
            }
            // retention.bytes
            if config.retentionBytes >= 0 {
                var excess = Int64(current.reduce(0) { $0 + $1.size }) - config.retentionBytes
                var oversize = 0
                for segment in candidates {
                    guard excess - Int64(segment.size) >= 0 else { break }
                    excess -= Int64(segment.size)
                    oversize += 1
                }
                count = max(count, oversize)
            }
            guard count > 0 else { return 0 }
            try removeSegments(prefix: count, from: &state)
            return count
        }
    }

    /// Moves the log start offset to `offset` (DeleteRecords), then deletes the segments entirely below it.
    /// Throws `offsetOutOfRange` when `offset` is above the high watermark. Returns the new log start offset.
    @discardableResult
    public func deleteRecords(before offset: Int64) throws -> Int64 {
        try writer.withLock { state in
            guard offset <= highWatermark else {
                throw LogEngineError(
                    .offsetOutOfRange, "offset \(offset) above the high watermark \(highWatermark)",
                    context: directory)
            }
            if offset > logStartOffset { publishStart(offset) }
            trimAbortedTransactions(below: logStartOffset)
            try truncateEpochs(fromStart: logStartOffset, state: &state)
            let current = state.segments
            var count = 0
            while count < current.count - 1, current[count + 1].baseOffset <= logStartOffset { count += 1 }
            if count > 0 { try removeSegments(prefix: count, from: &state) }
            return logStartOffset
        }
    }

    /// Unpublishes the first `count` segments, advances the log start offset, then deletes their files.
    /// Caller holds the writer lock.
    private func removeSegments(prefix count: Int, from state: inout WriterState) throws {
        let current = state.segments
        let removed = current.prefix(count)
        let remaining = Array(current.dropFirst(count))
        // Start offset first: a reader that sees the shorter segment list then sees the new start too.
        if let first = remaining.first, first.baseOffset > logStartOffset { publishStart(first.baseOffset) }
        trimAbortedTransactions(below: logStartOffset)
        try truncateEpochs(fromStart: logStartOffset, state: &state)
        replaceSegments(remaining, in: &state)
        for segment in removed { try segment.delete() }
        state.directoryNeedsSync = true
    }

    /// Closes the descriptors of segments unused since the previous call (see
    /// `LogSegment.releaseDescriptorIfIdle()`): a partition nobody reads or writes holds no open file after two
    /// calls. Returns how many were closed. Thread-safe; takes no writer lock.
    @discardableResult
    public func releaseIdleDescriptors() -> Int {
        segments.reduce(0) { $0 + ($1.releaseDescriptorIfIdle() ? 1 : 0) }
    }

    /// How many of the log's segments hold an open descriptor now.
    public var openDescriptorCount: Int {
        segments.reduce(0) { $0 + ($1.holdsDescriptor ? 1 : 0) }
    }
}
