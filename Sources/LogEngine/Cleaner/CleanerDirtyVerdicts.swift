/// What the newest-first mapping walk (`LogCleaner.mapNewestFirst`) learned about the dirty range of a round: for
/// every record it mapped, whether it is its key's latest and whether it is a tombstone (`CleanerOffsetFlags`, one
/// span per thread that walked). The rewrite takes a data batch's decisions from here instead of hashing and
/// looking up its keys again, and skips reading a batch whose records all go or all stay.
///
/// Thread-safety: immutable once built; shared by the threads rewriting a round's groups.
struct CleanerDirtyVerdicts: Sendable {
    /// Disjoint spans in offset order.
    let spans: [CleanerOffsetFlags]

    /// The span holding the whole of `header`'s batch, when it is a data batch the walk saw whole.
    func span(covering header: RecordBatchHeader) -> CleanerOffsetFlags? {
        guard !header.isControl else { return nil }
        for span in spans where span.contains(header.baseOffset) {
            return span.contains(header.lastOffset) ? span : nil
        }
        return nil
    }
}

extension CleanerDirtyVerdicts {
    /// Bytes a record may grow by when its batch is rebuilt: its timestamp delta re-based on a delete horizon
    /// (a varint of up to 10 bytes instead of at least 1) and its length varint one byte longer.
    static let rebuiltRecordGrowth = 10

    /// An upper bound of the bytes the cleaned copy of `segment` takes: a batch whose records all go leaves nothing,
    /// or an empty batch (its header) when `retention` keeps it empty; one whose records all stay is copied; an
    /// uncompressed batch losing records is rebuilt from at most its records (each at most `rebuiltRecordGrowth`
    /// bytes longer); any other batch (not walked newest first, or compressed and losing records: a compressor may
    /// not shrink a subset) makes the bound the segment's own size. Reads the batch headers only.
    func outputBound(of segment: LogSegment, retention: CleanerRetention) throws -> Int {
        try segment.ensureLoaded()
        let (mapping, bytes) = try segment.view()
        return withExtendedLifetime(mapping) { () -> Int in
            var bound = 0
            var batches = RecordBatchSequence(bytes).makeIterator()
            while let batch = batches.next() {
                let header = batch.header
                guard let span = span(covering: header) else { return segment.size }
                let counts = span.counts(header.baseOffset, header.lastOffset)
                if counts.latest == 0 {
                    // Walked newest first, so no transaction was aborted: the batch cannot be discarded whole.
                    if retention.batchRetention(header, canDiscardBatch: false).0 == .retainEmpty {
                        bound &+= RecordBatchHeader.size
                    }
                } else if counts.latest == counts.present && counts.latestTombstones == 0 {
                    bound &+= header.totalSize
                } else if header.compressionCodec == 0 {
                    bound &+= header.totalSize &+ counts.present &* Self.rebuiltRecordGrowth
                } else {
                    return segment.size
                }
            }
            return batches.stop == nil ? bound : segment.size
        }
    }
}
