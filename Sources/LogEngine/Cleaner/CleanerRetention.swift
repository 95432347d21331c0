/// What survives a cleaning round: Kafka's `Cleaner.cleanInto` record filter, in one place. Batch-level rules
/// (`batchRetention`) come first, then record-level rules (`retainsRecord`) for the batches whose records are
/// looked at.
///
/// - A record past the offset map's latest offset is kept (the round did not map it).
/// - A keyed record is kept when its offset is its key's latest (or the key is not in the map) and it has a
///   value, or it is a tombstone whose batch has no delete horizon yet or whose horizon is still ahead.
/// - Keyless records are removed (Kafka counts them as invalid in a compacted log).
/// - The batch holding an active idempotent producer's last data offset is kept, even with no record left
///   (an empty batch: header only), so the producer's sequence continues across cleans.
/// - The last batch of the round (its next offset is the round's upper bound) is kept even when empty, so the
///   log's last offset stays known.
/// - Control batches (transaction markers) are kept. Transactional data is not cleaned yet: the cleanable range
///   stops before the first segment holding any (`PartitionLog.cleanableRange`); aborted-batch removal and marker
///   horizons belong in `batchRetention`.
///
/// Thread-safety: a value type; used by one cleaner.
struct CleanerRetention {
    /// Kafka's `BatchRetention`.
    enum Batch: Equatable {
        /// Remove the batch whatever its records.
        case delete
        /// Keep the retained records; drop the batch if none is retained.
        case deleteEmpty
        /// Keep the batch even if no record is retained (an empty batch).
        case retainEmpty
    }

    let map: OffsetMap
    let nowMs: Int64
    /// The last data offset of every producer the log still tracks (Kafka's `lastRecordsOfActiveProducers`).
    let lastDataOffsetOfProducer: [Int64: Int64]
    /// The first offset this round does not clean (the first uncleanable offset).
    let upperBoundOffset: Int64

    /// The batch-level decision, and whether its records are all to be discarded regardless of their keys.
    func batchRetention(_ header: RecordBatchHeader) -> (Batch, discardRecords: Bool) {
        // No transaction state is stored yet: no batch is discardable as aborted, no marker as obsolete.
        let canDiscardBatch = false
        let discardRecords = canDiscardBatch
        let isLastOfProducer = header.producerId >= 0
            && lastDataOffsetOfProducer[header.producerId] == header.lastOffset
        if isLastOfProducer { return (.retainEmpty, discardRecords) }
        if header.nextOffset == upperBoundOffset { return (.retainEmpty, discardRecords) }
        return (discardRecords ? .delete : .deleteEmpty, discardRecords)
    }

    /// Whether the record at `offset` (key hash nil for a keyless record) of the batch `header` survives.
    func retainsRecord(_ header: RecordBatchHeader, offset: Int64, key: KeyHash?, hasValue: Bool) -> Bool {
        if offset > map.latestOffset { return true }
        guard let key else { return false }
        let isLatest = offset >= map.get(key)
        if !isLatest { return false }
        if hasValue { return true }
        guard let horizon = header.deleteHorizonMs else { return true }
        return nowMs < horizon
    }
}
