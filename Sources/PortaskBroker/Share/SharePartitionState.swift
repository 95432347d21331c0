import KafkaProtocol

/// The delivery state of one share partition (KIP-932): which records of a topic partition a share group has
/// delivered, to whom, and how often. A pure value with no clock of its own (times are passed in), so the state
/// machine is testable on its own; `SharePartitions` keeps one per (group, partition) behind a lock.
///
/// Layout: every offset in `startOffset ..< endOffset` has one `InFlight` entry (`records[offset - startOffset]`);
/// offsets below `startOffset` are done (acknowledged or archived), offsets from `endOffset` on were never
/// acquired. Record states as Kafka numbers them: Available 0 → Acquired 1 (with a lock until `lockDeadlineMs`)
/// → Acknowledged 2 or Archived 4; a release or an expired lock makes a record Available again, or Archived once
/// it has been delivered `deliveryLimit` times. The in-flight range never exceeds `maxRecordLocks` offsets
/// (Kafka's `group.share.partition.max.record.locks`). Offsets from requests are checked against the range
/// before any arithmetic on them; nothing here traps on client input.
struct SharePartitionState: Sendable, Equatable {
    enum RecordState: Int8, Sendable {
        case available = 0, acquired = 1, acknowledged = 2, archived = 4
    }

    /// Acknowledgement types of ShareFetch and ShareAcknowledge.
    enum AcknowledgeType: Int8, Sendable {
        case gap = 0, accept = 1, release = 2, reject = 3, renew = 4
    }

    struct InFlight: Sendable, Equatable {
        var state: RecordState
        var deliveryCount: Int16
        var memberId: String?
        var lockDeadlineMs: Int64
    }

    /// A contiguous run of records acquired in one step with the same delivery count (a ShareFetch `AcquiredRecords`).
    struct AcquiredRange: Sendable, Equatable {
        var firstOffset: Int64
        var lastOffset: Int64
        var deliveryCount: Int16
    }

    private(set) var startOffset: Int64
    private(set) var records: [InFlight] = []
    let deliveryLimit: Int16
    let maxRecordLocks: Int
    /// Records archived after reaching the delivery limit (a counter for metrics).
    private(set) var archivedAtLimit: Int64 = 0
    /// Deliveries beyond the first (a counter for metrics).
    private(set) var redeliveries: Int64 = 0

    init(startOffset: Int64, deliveryLimit: Int16 = 5, maxRecordLocks: Int = 2000) {
        self.startOffset = max(0, startOffset)
        self.deliveryLimit = max(1, deliveryLimit)
        self.maxRecordLocks = max(1, maxRecordLocks)
    }

    /// The first offset never acquired.
    var endOffset: Int64 { startOffset &+ Int64(records.count) }

    /// Records currently acquired by some member.
    var acquiredCount: Int { records.reduce(0) { $0 + ($1.state == .acquired ? 1 : 0) } }

    /// The in-flight entry of `offset`, nil outside the in-flight range.
    func record(at offset: Int64) -> InFlight? {
        guard offset >= startOffset, offset < endOffset else { return nil }
        return records[Int(offset - startOffset)]
    }

    /// The earliest lock deadline among acquired records.
    var nextLockDeadlineMs: Int64? {
        records.lazy.filter { $0.state == .acquired }.map(\.lockDeadlineMs).min()
    }

    /// Makes records whose lock passed `nowMs` Available again (or Archived at the delivery limit); returns
    /// whether any lock had passed.
    @discardableResult
    mutating func expireLocks(nowMs: Int64) -> Bool {
        var changed = false
        for index in records.indices where records[index].state == .acquired && records[index].lockDeadlineMs <= nowMs {
            release(at: index)
            changed = true
        }
        if changed { advanceStart() }
        return changed
    }

    /// Moves the start past offsets the log no longer holds (retention, DeleteRecords); returns whether it moved.
    @discardableResult
    mutating func trim(toLogStart logStart: Int64) -> Bool {
        guard logStart > startOffset else { return false }
        if logStart >= endOffset {
            records.removeAll()
            startOffset = logStart
        } else {
            records.removeFirst(Int(logStart - startOffset))
            startOffset = logStart
        }
        advanceStart()
        return true
    }

    /// Where the next acquisition reads from: the first Available in-flight record, else the end of the range
    /// when it has room for more record locks; nil when nothing can be acquired.
    var nextAcquirableOffset: Int64? {
        if let index = records.firstIndex(where: { $0.state == .available }) { return startOffset &+ Int64(index) }
        return records.count < maxRecordLocks ? endOffset : nil
    }

    /// Acquires for `memberId` up to `limit` records in `from ..< upTo` (`upTo` is where the read log data ends):
    /// Available in-flight records and records past the end of the range, until the range holds `maxRecordLocks`.
    /// `batchLastOffsets` (ascending) are the last offsets of the stored batches read: as Kafka's batch-optimized
    /// acquisition does, `limit` is soft and acquisition goes on to the end of the batch in which it was reached,
    /// so a batch sent whole is never split between members. Returns the acquired runs in offset order.
    mutating func acquire(
        memberId: String, from: Int64, upTo: Int64, limit: Int, nowMs: Int64, lockDurationMs: Int64,
        batchLastOffsets: [Int64] = []
    ) -> [AcquiredRange] {
        guard limit > 0, upTo > from else { return [] }
        let deadline = nowMs.addingReportingOverflow(lockDurationMs).overflow ? Int64.max : nowMs &+ lockDurationMs
        var ranges: [AcquiredRange] = []
        var taken = 0
        var offset = max(from, startOffset)
        func note(_ offset: Int64, _ count: Int16) {
            if var last = ranges.last, last.lastOffset &+ 1 == offset, last.deliveryCount == count {
                last.lastOffset = offset
                ranges[ranges.count - 1] = last
            } else {
                ranges.append(AcquiredRange(firstOffset: offset, lastOffset: offset, deliveryCount: count))
            }
        }
        /// Set once `limit` is reached: the last offset of the batch holding the record that reached it.
        var stopAfter: Int64?
        func reachedLimit(at offset: Int64) {
            guard taken >= limit, stopAfter == nil else { return }
            stopAfter = batchLastOffsets.first { $0 >= offset } ?? offset
        }
        while offset < upTo {
            if let stop = stopAfter, offset > stop { break }
            if offset < endOffset {
                let index = Int(offset - startOffset)
                if records[index].state == .available {
                    records[index].state = .acquired
                    records[index].deliveryCount = records[index].deliveryCount &+ 1
                    if records[index].deliveryCount > 1 { redeliveries &+= 1 }
                    records[index].memberId = memberId
                    records[index].lockDeadlineMs = deadline
                    note(offset, records[index].deliveryCount)
                    taken += 1
                    reachedLimit(at: offset)
                }
            } else {
                guard records.count < maxRecordLocks else { break }
                records.append(InFlight(state: .acquired, deliveryCount: 1, memberId: memberId, lockDeadlineMs: deadline))
                note(offset, 1)
                taken += 1
                reachedLimit(at: offset)
            }
            offset &+= 1
        }
        return ranges
    }

    /// Applies one acknowledgement batch of `memberId`: `types` holds one type for the whole range or one per
    /// offset. Every offset must be Acquired by the member (else INVALID_RECORD_STATE and nothing changes);
    /// a malformed batch is INVALID_REQUEST.
    mutating func acknowledge(
        memberId: String, firstOffset: Int64, lastOffset: Int64, types: [Int8], nowMs: Int64, lockDurationMs: Int64
    ) -> KafkaErrorCode {
        guard firstOffset <= lastOffset, !types.isEmpty else { return .invalidRequest }
        guard firstOffset >= startOffset, lastOffset < endOffset else { return .invalidRecordState }
        let first = Int(firstOffset - startOffset)
        let count = Int(lastOffset - firstOffset) + 1
        guard types.count == 1 || types.count == count else { return .invalidRequest }
        var parsed: [AcknowledgeType] = []
        parsed.reserveCapacity(types.count)
        for raw in types {
            guard let type = AcknowledgeType(rawValue: raw) else { return .invalidRequest }
            parsed.append(type)
        }
        for index in first..<(first + count) {
            let record = records[index]
            guard record.state == .acquired, record.memberId == memberId else { return .invalidRecordState }
        }
        let deadline = nowMs.addingReportingOverflow(lockDurationMs).overflow ? Int64.max : nowMs &+ lockDurationMs
        for step in 0..<count {
            let index = first + step
            switch parsed.count == 1 ? parsed[0] : parsed[step] {
            case .accept:
                records[index].state = .acknowledged
                records[index].memberId = nil
            case .gap, .reject:
                records[index].state = .archived
                records[index].memberId = nil
            case .release:
                release(at: index)
            case .renew:
                records[index].lockDeadlineMs = deadline
            }
        }
        advanceStart()
        return .noError
    }

    /// Releases every record `memberId` holds (its share session ended or it left the group).
    mutating func releaseAll(memberId: String) {
        var changed = false
        for index in records.indices where records[index].state == .acquired && records[index].memberId == memberId {
            release(at: index)
            changed = true
        }
        if changed { advanceStart() }
    }

    private mutating func release(at index: Int) {
        records[index].memberId = nil
        if records[index].deliveryCount >= deliveryLimit {
            records[index].state = .archived
            archivedAtLimit &+= 1
        } else {
            records[index].state = .available
        }
    }

    /// Replaces the in-flight records (restoring a stored snapshot), then drops the finished ones at the start.
    mutating func restore(records restored: [InFlight]) {
        records = Array(restored.prefix(maxRecordLocks))
        advanceStart()
    }

    /// Drops the leading run of finished (Acknowledged or Archived) records.
    private mutating func advanceStart() {
        let done = records.prefix { $0.state == .acknowledged || $0.state == .archived }.count
        guard done > 0 else { return }
        records.removeFirst(done)
        startOffset &+= Int64(done)
    }
}
