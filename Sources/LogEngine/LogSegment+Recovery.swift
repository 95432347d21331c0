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
    /// Caller holds the partition's write lock (or owns the segment exclusively).
    @discardableResult
    func recover(truncate: Bool) throws -> ScanResult {
        let result = try scan()
        if truncate && result.invalidBytes > 0 {
            try self.truncate(to: result.validBytes)
        }
        hasInvalidTail = !truncate && result.invalidBytes > 0
        stateLock.withLock { stateLoaded = true }
        return result
    }

    /// Scans batches from the start while they are valid, rebuilding the indexes and the writer state.
    private func scan() throws -> ScanResult {
        let (mapping, bytes) = try view()
        return try withExtendedLifetime(mapping) {
            try offsetIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
            try timeIndex.file.openForAppend(maxBytes: config.segmentIndexBytes, keepingEntries: 0)
            bytesSinceLastIndexEntry = 0
            maxTimestampSoFar = -1
            offsetOfMaxTimestampSoFar = baseOffset
            nextOffset = baseOffset
            var position = 0
            for batch in RecordBatchSequence(bytes, check: .checksum) {
                let header = batch.header
                guard header.baseOffset >= nextOffset, header.hasStorableBaseOffset,
                      header.lastOffset - baseOffset <= Int64(Int32.max)
                else { break }
                noteBatch(position: batch.position, size: header.totalSize,
                          lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp)
                position = batch.end
            }
            return ScanResult(validBytes: position, invalidBytes: bytes.count - position, scannedBytes: bytes.count)
        }
    }

    /// For a segment opened without a scan: validates the indexes, then derives the next offset and the max
    /// timestamp from the last index entries plus a header scan of the tail. Rebuilds the indexes from the log
    /// when they are missing or fail validation. Idempotent and thread-safe.
    func ensureLoaded() throws {
        try stateLock.withLock {
            if stateLoaded { return }
            if (try? loadFromIndexes()) == nil {
                try rebuildIndexes()
            }
            stateLoaded = true
        }
    }

    private func loadFromIndexes() throws {
        let size = self.size
        guard size == 0 || (FileSystem.exists(offsetIndex.file.path) && FileSystem.exists(timeIndex.file.path)) else {
            throw LogEngineError(.corruptIndex, "index missing", context: logPath)
        }
        if !FileSystem.exists(offsetIndex.file.path) { return }
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
            nextOffset = next
            maxTimestampSoFar = maxTimestamp
            offsetOfMaxTimestampSoFar = offsetOfMax
            bytesSinceLastIndexEntry = sinceEntry
        }
    }

    /// Rebuilds both indexes from the log without truncating it, then trims them.
    private func rebuildIndexes() throws {
        offsetIndex.file.unload()
        timeIndex.file.unload()
        hasInvalidTail = try scan().invalidBytes > 0
        try becomeInactive()
    }
}
