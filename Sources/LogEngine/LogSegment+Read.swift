extension LogSegment {
    /// The first batch whose last offset is at least `offset`: index floor entry, then a forward header scan.
    func locate(_ offset: Int64, in bytes: UnsafeRawBufferPointer) -> (position: Int, header: RecordBatchHeader)? {
        var position = offsetIndex.lookup(offset).position
        if position > bytes.count { position = 0 }
        for batch in RecordBatchSequence(bytes, from: position) where batch.header.lastOffset >= offset {
            return (batch.position, batch.header)
        }
        return nil
    }

    /// Whole batches from the one containing `offset`, stopping before `maxBytes` would be exceeded (the first
    /// batch is returned even when larger, if `minOneBatch`) and before any batch reaching `upperBound`
    /// (exclusive, e.g. the high watermark). Nil when the segment holds nothing at or after `offset`. The pages the
    /// header scan touched are released from this process's resident set afterwards (the slice is sent with
    /// sendfile or read again through the mapping, which maps them anew).
    func read(from offset: Int64, maxBytes: Int, upperBound: Int64, minOneBatch: Bool = true) throws -> FileSlice? {
        try ensureLoaded()
        let file = try file()
        let (mapping, bytes) = try view()
        let scanStart = min(offsetIndex.lookup(offset).position, bytes.count)
        var scanEnd = scanStart
        defer { mapping?.releaseResidentPages(around: scanStart..<scanEnd) }
        return withExtendedLifetime(mapping) { () -> FileSlice? in
            guard let (start, first) = locate(offset, in: bytes), first.lastOffset < upperBound else {
                scanEnd = bytes.count
                return nil
            }
            scanEnd = start + RecordBatchHeader.size
            if first.totalSize > maxBytes && !minOneBatch { return nil }
            var end = start + first.totalSize
            var next = first.nextOffset
            for batch in RecordBatchSequence(bytes, from: end) {
                guard batch.header.lastOffset < upperBound, batch.end - start <= maxBytes else { break }
                end = batch.end
                next = batch.header.nextOffset
            }
            scanEnd = min(end + RecordBatchHeader.size, bytes.count)
            return FileSlice(
                file: file, position: start, length: end - start,
                firstOffset: first.baseOffset, nextOffset: next, segment: self)
        }
    }

    /// The first offset at or after `minOffset` (and below `upperBound`) whose record timestamp is at least
    /// `timestamp`: time index floor, offset index floor, forward header scan, then the records of that batch.
    func findOffset(byTimestamp timestamp: Int64, minOffset: Int64, upperBound: Int64) throws -> TimestampAndOffset? {
        try ensureLoaded()
        let (mapping, bytes) = try view()
        return withExtendedLifetime(mapping) { () -> TimestampAndOffset? in
            let indexed = timeIndex.lookup(timestamp)?.offset ?? baseOffset
            guard let (start, _) = locate(max(indexed, minOffset), in: bytes) else { return nil }
            for batch in RecordBatchSequence(bytes, from: start) {
                let header = batch.header
                guard header.baseOffset < upperBound else { break }
                if let found = header.firstRecord(
                    withTimestampAtLeast: timestamp, minOffset: minOffset, in: bytes, at: batch.position)
                {
                    return TimestampAndOffset(
                        timestamp: found.timestamp, offset: found.offset, leaderEpoch: header.knownLeaderEpoch)
                }
            }
            return nil
        }
    }

    /// The segment's largest batch max timestamp and the first batch carrying it, or nil when the segment holds
    /// no batch: the time index's last entry (the batch that first reached it), then a header scan of the
    /// batches the index has not covered yet.
    func maxTimestampBatch() throws -> (timestamp: Int64, position: Int, header: RecordBatchHeader)? {
        try ensureLoaded()
        let (mapping, bytes) = try view()
        return withExtendedLifetime(mapping) { () -> (timestamp: Int64, position: Int, header: RecordBatchHeader)? in
            var best: (timestamp: Int64, position: Int, header: RecordBatchHeader)?
            var start = 0
            if let last = timeIndex.lastEntry, let (position, header) = locate(last.offset, in: bytes) {
                start = position
                best = (header.maxTimestamp, position, header)
            }
            for batch in RecordBatchSequence(bytes, from: start) where best == nil || batch.header.maxTimestamp > best!.timestamp {
                best = (batch.header.maxTimestamp, batch.position, batch.header)
            }
            return best
        }
    }

    /// The offset of the first record holding the batch's max timestamp, for the batch at `position`.
    func offsetOfMaxTimestamp(_ header: RecordBatchHeader, at position: Int) throws -> Int64 {
        let (mapping, bytes) = try view()
        return withExtendedLifetime(mapping) { header.offsetOfMaxTimestamp(in: bytes, at: position) }
    }
}
