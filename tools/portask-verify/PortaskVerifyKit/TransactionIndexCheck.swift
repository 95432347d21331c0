/// Checks a segment's `.txnindex` (aborted transactions), as Apache Kafka and Portask write it:
/// ```
/// entry (34 bytes, big-endian): int16 version = 0, int64 producerId, int64 firstOffset, int64 lastOffset,
///                               int64 lastStableOffset
/// ```
/// Each entry must have version 0, `firstOffset <= lastOffset`, a non-negative last stable offset (which may lie
/// below the entry when another transaction was still open, as Kafka computes it), its last offset inside the
/// segment's batches, and last offsets never decreasing. Kafka and Portask rebuild this index when recovery
/// replays a segment; the verifier reports its damage as not repairable.
///
/// Thread-safety: stateless.
enum TransactionIndexCheck {
    static let entrySize = 34

    static func run(path: String, log: SegmentCheck) throws -> [Damage] {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        var collector = IndexCheck.Collector(path: path)
        if bytes.count % entrySize != 0 {
            collector.add(.txnIndexInvalid, nil, nil, "size \(bytes.count) is not a multiple of \(entrySize)")
        }
        var previousLast = Int64.min
        for slot in 0..<(bytes.count / entrySize) {
            let at = slot * entrySize
            let version = Int16(bitPattern: UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]))
            let producerId = bytes.int64(at: at + 2)
            let first = bytes.int64(at: at + 10)
            let last = bytes.int64(at: at + 18)
            let lastStable = bytes.int64(at: at + 26)
            if version != 0 || producerId < 0 || first > last || lastStable < 0 || last < previousLast {
                collector.add(.txnIndexInvalid, at, first,
                              "entry \(slot) (version \(version), producer \(producerId), offsets \(first)...\(last), "
                                  + "last stable offset \(lastStable)) is malformed or out of order")
            } else if last < log.effectiveBaseOffset || last > (log.lastOffset ?? Int64.min) {
                collector.add(.txnIndexInvalid, at, last,
                              "entry \(slot) ends at offset \(last), outside the segment's batches")
            }
            previousLast = max(previousLast, last)
        }
        return collector.finish()
    }
}
