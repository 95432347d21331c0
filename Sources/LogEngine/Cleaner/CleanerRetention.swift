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
/// - A data batch of an aborted transaction loses all its records (`CleanerTransactions` decides).
/// - A transaction marker is kept while it guards batches of its transaction; once it guards none it is
///   rewritten with a delete horizon (now + `delete.retention.ms`, KIP-534), and removed by the first round after
///   that horizon.
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

    /// The batch-level decision given whether the transaction state lets the batch go (`canDiscardBatch`: an
    /// aborted transaction's data, or a marker that guards nothing): whether its records are all to be discarded
    /// regardless of their keys, and whether it is a marker that needs a delete horizon before it may go.
    func batchRetention(_ header: RecordBatchHeader, canDiscardBatch: Bool)
        -> (Batch, discardRecords: Bool, removableMarker: Bool)
    {
        let discardRecords: Bool
        if header.isControl {
            discardRecords = canDiscardBatch && header.deleteHorizonMs.map { $0 <= nowMs } == true
        } else {
            discardRecords = canDiscardBatch
        }
        let removableMarker = canDiscardBatch && header.isControl
        let isLastOfProducer = header.producerId >= 0
            && lastDataOffsetOfProducer[header.producerId] == header.lastOffset
        if isLastOfProducer { return (.retainEmpty, discardRecords, removableMarker) }
        if header.nextOffset == upperBoundOffset { return (.retainEmpty, discardRecords, removableMarker) }
        return (discardRecords ? .delete : .deleteEmpty, discardRecords, removableMarker)
    }

    /// Whether the record at `offset` (key hash nil for a keyless record) of the batch `header` survives.
    func retainsRecord(_ header: RecordBatchHeader, offset: Int64, key: KeyHash?, hasValue: Bool) -> Bool {
        if offset > map.latestOffset { return true }
        guard let key else { return false }
        return retainsRecord(header, isLatest: offset >= map.get(key), hasValue: hasValue)
    }

    /// Whether a keyed record of the batch `header` survives, knowing whether it is its key's latest.
    func retainsRecord(_ header: RecordBatchHeader, isLatest: Bool, hasValue: Bool) -> Bool {
        if !isLatest { return false }
        if hasValue { return true }
        guard let horizon = header.deleteHorizonMs else { return true }
        return nowMs < horizon
    }
}
