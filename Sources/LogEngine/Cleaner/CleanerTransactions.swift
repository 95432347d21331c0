/// The transaction state a cleaner tracks while it walks a range of the log in offset order (Kafka's
/// `CleanedTransactionMetadata`): which batches belong to aborted transactions (removable), which markers no
/// longer guard any batch (removable once their delete horizon passes), and the transaction index entries of
/// the cleaned segment.
///
/// Built from the partition's aborted transactions that overlap the range (the `.txnindex` entries). A
/// transactional data batch whose producer has an aborted transaction started at or before it, and not yet
/// ended by that producer's abort marker, belongs to that transaction. An abort marker stays (and keeps its
/// index entry) while batches of its transaction were seen in the range; a commit marker while batches of its
/// producer's transaction were seen; otherwise the marker is removable.
///
/// Thread-safety: a mutable reference owned by one cleaning pass (one map build or one segment group).
final class CleanerTransactions {
    /// Aborted transactions not yet reached, by first offset (ascending).
    private var pending: [AbortedTransaction]
    private var nextPending = 0
    /// Producer id → (aborted transaction in progress at the walk's position, whether a batch of it was seen).
    private var ongoingAborted: [Int64: (transaction: AbortedTransaction, sawBatch: Bool)] = [:]
    /// Producers whose (committed) transactional batches were seen since their last marker.
    private var ongoingCommitted: Set<Int64> = []
    /// Index entries of the aborted transactions whose markers the cleaned output keeps, in marker order.
    private(set) var cleanedIndex: [AbortedTransaction] = []

    init(aborted: [AbortedTransaction]) {
        pending = aborted.sorted { $0.firstOffset < $1.firstOffset }
    }

    /// Records a data batch; true when it belongs to an aborted transaction (its records can all be removed).
    func onDataBatch(_ header: RecordBatchHeader) -> Bool {
        consumeAborted(upTo: header.lastOffset)
        guard header.isTransactional else { return false }
        if var aborted = ongoingAborted[header.producerId] {
            aborted.sawBatch = true
            ongoingAborted[header.producerId] = aborted
            return true
        }
        ongoingCommitted.insert(header.producerId)
        return false
    }

    /// Records a control batch whose record is `marker` (nil when the batch has no record, or one of another
    /// type: `isEmpty` tells them apart); true when the marker guards no batch any more and may be removed
    /// (once its delete horizon passes).
    func onControlBatch(_ header: RecordBatchHeader, marker: ControlRecord?, isEmpty: Bool) -> Bool {
        consumeAborted(upTo: header.lastOffset)
        // An empty control batch was cleaned before: nothing depends on it.
        if isEmpty { return true }
        guard let marker else { return false }
        if marker.isCommit {
            return ongoingCommitted.remove(header.producerId) == nil
        }
        guard let aborted = ongoingAborted.removeValue(forKey: header.producerId), aborted.sawBatch else {
            return true
        }
        cleanedIndex.append(aborted.transaction)
        return false
    }

    private func consumeAborted(upTo offset: Int64) {
        while nextPending < pending.count, pending[nextPending].firstOffset <= offset {
            let transaction = pending[nextPending]
            if ongoingAborted[transaction.producerId] == nil {
                ongoingAborted[transaction.producerId] = (transaction, false)
            }
            nextPending += 1
        }
    }
}
