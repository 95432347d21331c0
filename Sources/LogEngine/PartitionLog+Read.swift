extension PartitionLog {
    /// Special timestamps of ListOffsets.
    public static let latestTimestamp: Int64 = -1
    public static let earliestTimestamp: Int64 = -2

    /// A slice of whole batches starting at the batch that contains `offset`, at most `maxBytes` long except
    /// that the first batch is always returned whole (Kafka's rule, when `minOneBatch`), and ending below
    /// `upperBound` (default: the high watermark). Nil when there is nothing to read yet.
    ///
    /// Throws `offsetOutOfRange` when `offset` is below the log start offset or above the log end offset.
    /// Thread-safety: lock-free apart from copying the segment list; callable from any thread.
    public func read(from offset: Int64, maxBytes: Int, upperBound: Int64? = nil, minOneBatch: Bool = true) throws
        -> FileSlice?
    {
        // Segment list first, then the offsets: retention publishes a new start offset before a shorter list.
        let current = segments
        let end = logEndOffset
        let start = logStartOffset
        guard offset >= start, offset <= end, let first = current.first, offset >= first.baseOffset else {
            throw LogEngineError(
                .offsetOutOfRange, "offset \(offset) outside [\(start), \(end)]", context: directory)
        }
        let bound = min(upperBound ?? highWatermark, end)
        guard offset < bound else { return nil }
        var index = Self.floorSegment(current, offset) ?? 0
        while index < current.count, current[index].baseOffset < bound {
            if let slice = try current[index].read(
                from: offset, maxBytes: maxBytes, upperBound: bound, minOneBatch: minOneBatch)
            {
                activity?.recordRead(bytes: slice.length)
                return slice
            }
            index += 1
        }
        return nil
    }

    /// The first offset whose record timestamp is at least `timestamp`, or nil when no record is that new
    /// (Kafka answers -1 then). `latestTimestamp` (-1) gives the high watermark, `earliestTimestamp` (-2) the
    /// log start offset. Uses the time index, then the offset index, then a header scan.
    public func offset(forTimestamp timestamp: Int64) throws -> Int64? {
        if timestamp == Self.latestTimestamp { return highWatermark }
        if timestamp == Self.earliestTimestamp { return logStartOffset }
        return try record(forTimestamp: timestamp)?.offset
    }

    /// The first record at or after the log start offset, below `upperBound` (default: the high watermark), whose
    /// timestamp is at least `timestamp` (>= 0), with that record's own timestamp and its batch's leader epoch:
    /// Kafka's answer to a ListOffsets timestamp query. Records inside compressed batches are decoded to find the
    /// exact one. Nil when no record is that new. Lock-free like `read`.
    public func record(forTimestamp timestamp: Int64, upperBound: Int64? = nil) throws -> TimestampAndOffset? {
        let start = logStartOffset
        let bound = min(upperBound ?? highWatermark, logEndOffset)
        for segment in segments where segment.baseOffset < bound {
            if let found = try segment.findOffset(byTimestamp: timestamp, minOffset: start, upperBound: bound) {
                return found
            }
        }
        return nil
    }

    /// The record with the largest timestamp in the log (ListOffsets' MAX_TIMESTAMP, KIP-734), as Kafka finds
    /// it: the first segment holding the largest batch max timestamp, the first batch there with that max
    /// timestamp, and the first record of it carrying that timestamp. Nil for an empty log. Lock-free.
    public func maxTimestampRecord() throws -> TimestampAndOffset? {
        var best: (segment: LogSegment, timestamp: Int64, position: Int, header: RecordBatchHeader)?
        for segment in segments {
            guard let found = try segment.maxTimestampBatch() else { continue }
            if best == nil || found.timestamp > best!.timestamp {
                best = (segment, found.timestamp, found.position, found.header)
            }
        }
        guard let best else { return nil }
        let offset = try best.segment.offsetOfMaxTimestamp(best.header, at: best.position)
        return TimestampAndOffset(timestamp: best.timestamp, offset: offset, leaderEpoch: best.header.knownLeaderEpoch)
    }

    /// Index of the last segment whose base offset is at most `offset`.
    static func floorSegment(_ segments: [LogSegment], _ offset: Int64) -> Int? {
        var low = 0
        var high = segments.count - 1
        var found: Int? = nil
        while low <= high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset {
                found = middle
                low = middle + 1
            } else {
                high = middle - 1
            }
        }
        return found
    }
}
