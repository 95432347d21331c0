extension LogSegment {
    /// What a scan of the segment found.
    struct ScanResult {
        /// Bytes of valid batches from the start of the file.
        var validBytes: Int
        /// Bytes after them (torn, corrupt or zero-filled), removed when truncating.
        var invalidBytes: Int
        var scannedBytes: Int
    }

    /// Scans every batch from the start (structure, monotonic offsets, CRC-32C), rebuilding both indexes;
    /// with `truncate`, cuts the file after the last valid batch. Used by recovery and by index rebuilds.
    /// The caller owns the segment exclusively (the loader at open, an offline tool): the segment's stored
    /// writer state is replaced by the scan's.
    @discardableResult
    func recover(truncate: Bool) throws -> ScanResult {
        try stored.withLock { stored in
            let (result, writer) = try scan(createdMs: stored.writer.createdMs)
            if truncate && result.invalidBytes > 0 {
                try self.truncate(to: result.validBytes)
            }
            stored.writer = writer
            stored.hasInvalidTail = !truncate && result.invalidBytes > 0
            stored.loaded = true
            return result
        }
    }

    /// Scans batches from the start while they are valid, rebuilding the indexes; returns the writer state of
    /// the valid batches.
    private func scan(createdMs: Int64) throws -> (ScanResult, WriterState) {
        let (mapping, bytes) = try view()
        return try withExtendedLifetime(mapping) {
            try offsetIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
            try timeIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
            var state = WriterState(baseOffset: baseOffset, createdMs: createdMs)
            var position = 0
            for batch in RecordBatchSequence(bytes, check: .checksum) {
                let header = batch.header
                guard header.baseOffset >= state.nextOffset, header.hasStorableBaseOffset,
                      header.lastOffset - baseOffset <= Int64(Int32.max)
                else { break }
                noteBatch(position: batch.position, size: header.totalSize,
                          lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp, state: &state)
                position = batch.end
            }
            let result = ScanResult(
                validBytes: position, invalidBytes: bytes.count - position, scannedBytes: bytes.count)
            return (result, state)
        }
    }

    /// For a segment opened without a scan: validates the indexes, then derives the next offset and the max
    /// timestamp from the last index entries plus a header scan of the tail. Rebuilds the indexes from the log
    /// when they are missing or fail validation. Idempotent and thread-safe (concurrent callers wait for the
    /// first one's load).
    func ensureLoaded() throws {
        try stored.withLock { stored in
            if stored.loaded { return }
            if let loaded = try? loadFromIndexes(createdMs: stored.writer.createdMs) {
                stored.writer = loaded
            } else {
                (stored.writer, stored.hasInvalidTail) = try rebuildIndexes(createdMs: stored.writer.createdMs)
            }
            stored.loaded = true
        }
    }

    private func loadFromIndexes(createdMs: Int64) throws -> WriterState {
        let size = self.size
        guard size == 0 || (FileSystem.exists(offsetIndex.file.path) && FileSystem.exists(timeIndex.file.path)) else {
            throw LogEngineError(.corruptIndex, "index missing", context: logPath)
        }
        var state = WriterState(baseOffset: baseOffset, createdMs: createdMs)
        if !FileSystem.exists(offsetIndex.file.path) { return state }
        try offsetIndex.validate(logSize: size)
        let (mapping, bytes) = try view()
        try withExtendedLifetime(mapping) {
            var position = 0
            var next = baseOffset
            if let last = offsetIndex.lastEntry {
                position = last.position
                next = last.offset
            }
            var maxTimestamp = Int64(-1)
            var offsetOfMax = baseOffset
            if let lastTime = timeIndex.lastEntry {
                maxTimestamp = lastTime.timestamp
                offsetOfMax = lastTime.offset
            }
            var sinceEntry = 0
            var batches = RecordBatchSequence(bytes, from: position, check: .structure).makeIterator()
            while let batch = batches.next() {
                let (position, header) = (batch.position, batch.header)
                guard header.hasStorableBaseOffset else {
                    throw LogEngineError(.corruptBatch, "base offset \(header.baseOffset) out of range", context: logPath)
                }
                let consistent = sinceEntry == 0 && position > 0 ? header.lastOffset == next : header.baseOffset >= next
                if !consistent {
                    throw LogEngineError(.corruptIndex, "index and log disagree at \(position)", context: logPath)
                }
                if header.maxTimestamp > maxTimestamp {
                    maxTimestamp = header.maxTimestamp
                    offsetOfMax = header.lastOffset
                }
                next = header.nextOffset
                sinceEntry += header.totalSize
            }
            // A start past the end (an index entry beyond the log) leaves nothing to scan, as before.
            if let stop = batches.stop, stop.reason != .outOfRange { throw stop.error }
            try timeIndex.validate(lastOffset: next - 1)
            state.nextOffset = next
            state.maxTimestampSoFar = maxTimestamp
            state.offsetOfMaxTimestampSoFar = offsetOfMax
            state.bytesSinceLastIndexEntry = sinceEntry
        }
        return state
    }

    /// Rebuilds both indexes from the log without truncating it, then trims them.
    /// Returns the writer state and whether bytes follow the last valid batch.
    private func rebuildIndexes(createdMs: Int64) throws -> (WriterState, Bool) {
        offsetIndex.file.unload()
        timeIndex.file.unload()
        let (result, state) = try scan(createdMs: createdMs)
        try trimIndexes(state)
        return (state, result.invalidBytes > 0)
    }
}
