import KafkaProtocol

extension SharePartitionState {
    /// A share partition restored from its stored snapshot (untrusted: read from disk). The state batches must
    /// lie in order from the start offset; each offset takes the state of the first batch that covers it, gaps
    /// between batches are Available, states other than Available, Acknowledged and Archived are Available,
    /// and the in-flight range is cut at `maxRecordLocks` offsets. Nothing here traps on stored values.
    init(restoring snapshot: ShareSnapshotValue, deliveryLimit: Int16, maxRecordLocks: Int) {
        self.init(startOffset: snapshot.startOffset, deliveryLimit: deliveryLimit, maxRecordLocks: maxRecordLocks)
        let start = startOffset
        var restored: [InFlight] = []
        for batch in snapshot.stateBatches {
            guard batch.lastOffset >= batch.firstOffset, batch.lastOffset >= start else { continue }
            let first = max(batch.firstOffset, start)
            let (distance, overflow) = first.subtractingReportingOverflow(start)
            guard !overflow, distance < Int64(self.maxRecordLocks) else { break }
            let firstIndex = Int(distance)
            let lastIndex = Int(min(batch.lastOffset &- start, Int64(self.maxRecordLocks) - 1))
            let state: RecordState
            switch RecordState(rawValue: batch.deliveryState) {
            case .acknowledged?: state = .acknowledged
            case .archived?: state = .archived
            default: state = .available
            }
            let entry = InFlight(state: state, deliveryCount: max(0, batch.deliveryCount), memberId: nil, lockDeadlineMs: 0)
            while restored.count < firstIndex {
                restored.append(InFlight(state: .available, deliveryCount: 0, memberId: nil, lockDeadlineMs: 0))
            }
            if restored.count <= lastIndex {
                restored.append(contentsOf: repeatElement(entry, count: lastIndex - restored.count + 1))
            }
        }
        restore(records: restored)
    }
}
