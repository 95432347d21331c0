import KafkaProtocol

extension SharePartitionState {
    /// A run of offsets with one stored delivery state and count, as `__share_group_state` records hold them
    /// (the `StateBatches` of ShareSnapshot and ShareUpdate values).
    struct StoredBatch: Sendable, Equatable {
        var firstOffset: Int64
        var lastOffset: Int64
        var deliveryState: Int8
        var deliveryCount: Int16
    }

    /// How a record is stored: Available with its delivery count, Acknowledged 2 or Archived 4. An Acquired
    /// record is stored as it was before it was acquired (Available, one delivery fewer), as Kafka's share
    /// partition writes no state for an acquisition: a broker restart makes it Available again and its
    /// interrupted delivery does not count.
    static func stored(_ record: InFlight) -> (state: Int8, count: Int16) {
        switch record.state {
        case .acquired: return (RecordState.available.rawValue, max(0, record.deliveryCount &- 1))
        default: return (record.state.rawValue, record.deliveryCount)
        }
    }

    /// The stored form of `offset`: never-acquired offsets past the in-flight range are Available with count 0.
    private func storedForm(at offset: Int64) -> (state: Int8, count: Int16) {
        guard offset >= startOffset, offset < endOffset else { return (RecordState.available.rawValue, 0) }
        return Self.stored(records[Int(offset &- startOffset)])
    }

    /// Appends `offset` with `form` to `batches`, extending the last batch when it is contiguous and alike.
    private static func note(_ offset: Int64, _ form: (state: Int8, count: Int16), to batches: inout [StoredBatch]) {
        if var last = batches.last, last.lastOffset &+ 1 == offset, last.deliveryState == form.state,
           last.deliveryCount == form.count {
            last.lastOffset = offset
            batches[batches.count - 1] = last
        } else {
            batches.append(StoredBatch(firstOffset: offset, lastOffset: offset, deliveryState: form.state, deliveryCount: form.count))
        }
    }

    /// The whole in-flight range in stored form (a ShareSnapshot's batches); runs of never-delivered Available
    /// records are left out (a restore treats missing offsets as exactly that).
    var storedBatches: [StoredBatch] {
        var batches: [StoredBatch] = []
        var offset = startOffset
        for record in records {
            let form = Self.stored(record)
            if form.state != RecordState.available.rawValue || form.count != 0 { Self.note(offset, form, to: &batches) }
            offset &+= 1
        }
        return batches
    }

    /// The offsets whose stored form differs from `before`'s, from this state's start offset on (a ShareUpdate's
    /// batches; the start offset travels with them). Acquisitions and lock renewals change nothing stored.
    func storedChanges(since before: SharePartitionState) -> [StoredBatch] {
        var batches: [StoredBatch] = []
        let end = max(endOffset, before.endOffset)
        var offset = startOffset
        while offset < end {
            let now = storedForm(at: offset)
            let then = before.storedForm(at: offset)
            if offset < before.startOffset || now != then { Self.note(offset, now, to: &batches) }
            offset &+= 1
        }
        return batches
    }

    /// The state of a stored record: Acknowledged and Archived stay, anything else is Available.
    private static func restoredState(_ stored: Int8) -> RecordState {
        switch RecordState(rawValue: stored) {
        case .acknowledged?: return .acknowledged
        case .archived?: return .archived
        default: return .available
        }
    }

    /// A share partition restored from its stored snapshot (untrusted: read from disk). See `apply(_:to:)` for
    /// how batches are read; the in-flight range is cut at `maxRecordLocks` offsets.
    init(restoring snapshot: ShareSnapshotValue, deliveryLimit: Int16, maxRecordLocks: Int) {
        self.init(startOffset: snapshot.startOffset, deliveryLimit: deliveryLimit, maxRecordLocks: maxRecordLocks)
        var restored: [InFlight] = []
        apply(snapshot.stateBatches.map {
            StoredBatch(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, deliveryState: $0.deliveryState, deliveryCount: $0.deliveryCount)
        }, to: &restored)
        restore(records: restored)
    }

    /// Applies a stored ShareUpdate (untrusted): its start offset (-1: unchanged; never backwards), then its
    /// batches, which replace what the offsets they cover held.
    mutating func apply(update: ShareUpdateValue) {
        if update.startOffset > startOffset { trim(toLogStart: update.startOffset) }
        var current = records
        apply(update.stateBatches.map {
            StoredBatch(firstOffset: $0.firstOffset, lastOffset: $0.lastOffset, deliveryState: $0.deliveryState, deliveryCount: $0.deliveryCount)
        }, to: &current)
        restore(records: current)
    }

    /// Writes stored batches into `entries` (indexed from the start offset), padding gaps with never-delivered
    /// Available records. Batches are read as written: ascending and disjoint; one that starts at or before the
    /// end of the previous one is skipped, as are offsets below the start and from `maxRecordLocks` past it, so
    /// the work is bounded by the window whatever the stored values. States other than Acknowledged and
    /// Archived are Available; negative counts are 0. Nothing here traps on stored values.
    private func apply(_ batches: [StoredBatch], to entries: inout [InFlight]) {
        let start = startOffset
        let window = Int64(maxRecordLocks)
        let fresh = InFlight(state: .available, deliveryCount: 0, memberId: nil, lockDeadlineMs: 0)
        var previousLast: Int64?
        for batch in batches {
            guard batch.lastOffset >= batch.firstOffset, previousLast.map({ batch.firstOffset > $0 }) ?? true else { continue }
            previousLast = batch.lastOffset
            guard batch.lastOffset >= start else { continue }
            let first = max(batch.firstOffset, start)
            let (distance, overflow) = first.subtractingReportingOverflow(start)
            guard !overflow, distance < window else { break }
            let firstIndex = Int(distance)
            let (span, spanOverflow) = batch.lastOffset.subtractingReportingOverflow(start)
            let lastIndex = Int(spanOverflow ? window - 1 : min(span, window - 1))
            let entry = InFlight(
                state: Self.restoredState(batch.deliveryState), deliveryCount: max(0, batch.deliveryCount),
                memberId: nil, lockDeadlineMs: 0)
            if entries.count <= lastIndex {
                entries.append(contentsOf: repeatElement(fresh, count: lastIndex - entries.count + 1))
            }
            for index in firstIndex...lastIndex { entries[index] = entry }
        }
    }
}
