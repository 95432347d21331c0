import LogEngine
import NIOCore

extension OffsetsTopic {
    /// Every record of every partition, in log order per partition (partitions in index order); empty when the
    /// topic does not exist. Never fails as a whole: a record that cannot be decoded costs that record, a batch
    /// that cannot be read costs that batch (or its records from the first unframeable one on), a read error
    /// costs the rest of that partition; each is counted in `report`. Record types this broker does not know
    /// (Kafka's newer key versions) are skipped without a report, as before.
    ///
    /// Records of transactional batches (offsets committed in a transaction) count from their commit marker on;
    /// an abort marker drops them; those of transactions without a marker yet are left in `pending`, by
    /// producer id, for the transaction coordinator to complete.
    func loadAll(_ report: inout OffsetsTopicLoadReport) -> [GroupRecord] {
        var pending: [Int64: [GroupRecord]] = [:]
        return loadAll(&report, pending: &pending)
    }

    func loadAll(_ report: inout OffsetsTopicLoadReport, pending: inout [Int64: [GroupRecord]]) -> [GroupRecord] {
        guard let topic = topics.topic(named: Self.name) else { return [] }
        var records: [GroupRecord] = []
        for index in 0..<Int32(clamping: topic.partitionCount) {
            guard let log = topics.partition(Self.name, index) else { continue }
            var offset = log.logStartOffset
            let end = log.logEndOffset
            while offset < end {
                let next: Int64
                do {
                    guard let slice = try log.read(from: offset, maxBytes: 1 << 20, upperBound: end) else { break }
                    var undecodable: [String] = []
                    try slice.withUnsafeBytes { raw in
                        Self.decodeBatches(raw, report: &report, control: { header, marker in
                            let held = pending.removeValue(forKey: header.producerId) ?? []
                            if marker.isCommit { records += held }
                        }) { header, key, value in
                            do {
                                guard let record = try GroupRecord(key: key, value: value) else { return }
                                if header.isTransactional && header.producerId >= 0 {
                                    pending[header.producerId, default: []].append(record)
                                } else {
                                    records.append(record)
                                }
                            } catch {
                                undecodable.append("\(Self.name)-\(index): \(error)")
                            }
                        }
                    }
                    for problem in undecodable { report.skippedRecord(problem) }
                    next = slice.nextOffset
                } catch {
                    report.unreadablePartition("\(Self.name)-\(index) from offset \(offset): \(error)")
                    break
                }
                guard next > offset else { break }
                offset = next
            }
        }
        return records
    }

    /// The (key, value) pairs of the uncompressed, non-control batches in `bytes` (tests and tools).
    static func decodeBatches(_ bytes: [UInt8], report: inout OffsetsTopicLoadReport) -> [(ByteBuffer, ByteBuffer?)] {
        var pairs: [(ByteBuffer, ByteBuffer?)] = []
        bytes.withUnsafeBytes { raw in decodeBatches(raw, report: &report) { pairs.append(($0, $1)) } }
        return pairs
    }

    /// Calls `body` with the (key, value) of each record of the uncompressed, non-control batches in `raw`.
    /// Every length and count is checked against the bytes at hand: a batch that fails Kafka's batch checks
    /// (magic, lengths, record count, CRC-32C) is skipped whole when its length still delimits it, otherwise
    /// the rest of `raw` is; a record whose framing is broken ends its batch; a record without a key or with a
    /// malformed field is skipped alone.
    static func decodeBatches(
        _ raw: UnsafeRawBufferPointer, report: inout OffsetsTopicLoadReport, _ body: (ByteBuffer, ByteBuffer?) -> Void
    ) {
        decodeBatches(raw, report: &report, control: { _, _ in }) { _, key, value in body(key, value) }
    }

    /// As above, with each record's batch header, and `control` called for each transaction marker.
    static func decodeBatches(
        _ raw: UnsafeRawBufferPointer, report: inout OffsetsTopicLoadReport,
        control: (RecordBatchHeader, ControlRecord) -> Void, _ body: (RecordBatchHeader, ByteBuffer, ByteBuffer?) -> Void
    ) {
        var walk = RecordBatchSequence(raw).makeIterator()
        while let batch = walk.next() {
            let (position, header, end) = (batch.position, batch.header, batch.end)
            do {
                try header.validateStored(in: raw, at: position)
            } catch {
                report.skippedBatch(records: Int(header.recordCount), "batch at offset \(header.baseOffset): \(error)")
                continue
            }
            if header.isControl {
                if let marker = ControlRecord.parse(header, in: raw, at: position) { control(header, marker) }
                continue
            }
            guard header.compressionCodec == 0 else {
                report.skippedBatch(records: Int(header.recordCount), "compressed batch at offset \(header.baseOffset)")
                continue
            }
            var cursor = position + RecordBatchHeader.size
            for read in 0..<Int(header.recordCount) {
                guard let length = varint(raw, &cursor, end: end), length >= 0, length <= Int64(end - cursor) else {
                    report.skippedBatch(
                        records: Int(header.recordCount) - read,
                        "record \(read) of the batch at offset \(header.baseOffset): bad record length")
                    break
                }
                let recordEnd = cursor + Int(length)
                defer { cursor = recordEnd }
                guard let (key, value) = record(raw, from: cursor, to: recordEnd) else {
                    report.skippedRecord("record \(read) of the batch at offset \(header.baseOffset): malformed")
                    continue
                }
                body(header, key, value)
            }
        }
        // A whole header whose length does not delimit its batch ends the walk, reported; a shorter tail does
        // silently.
        if let stop = walk.stop, let header = stop.header {
            let error: Error
            do {
                try header.validate(in: raw, at: stop.position)
                error = stop.error
            } catch let thrown {
                error = thrown
            }
            report.skippedBatch(records: 0, "batch at offset \(header.baseOffset): \(error)")
        }
    }

    /// The key and value of the record body in `start..<end`; nil when malformed or without a key.
    private static func record(_ raw: UnsafeRawBufferPointer, from start: Int, to end: Int) -> (ByteBuffer, ByteBuffer?)? {
        var cursor = start
        guard cursor < end else { return nil }
        cursor += 1  // attributes
        guard varint(raw, &cursor, end: end) != nil,  // timestamp delta
              varint(raw, &cursor, end: end) != nil,  // offset delta
              let keyField = field(raw, &cursor, end: end),
              let value = field(raw, &cursor, end: end),
              let key = keyField
        else { return nil }
        return (key, value)
    }

    /// A varint-length field: .some(nil) for a null field, nil when malformed.
    private static func field(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) -> ByteBuffer?? {
        guard let length = varint(raw, &cursor, end: end) else { return nil }
        if length < 0 { return .some(nil) }
        guard length <= Int64(end - cursor) else { return nil }
        let fieldEnd = cursor + Int(length)
        defer { cursor = fieldEnd }
        return .some(ByteBuffer(bytes: UnsafeRawBufferPointer(rebasing: raw[cursor..<fieldEnd])))
    }

    /// A zigzag varint at `cursor`, advancing it; nil when malformed (more than 10 bytes or past `end`).
    private static func varint(_ raw: UnsafeRawBufferPointer, _ cursor: inout Int, end: Int) -> Int64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while cursor < end, shift < 64 {
            let byte = raw[cursor]
            cursor += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1) }
            shift += 7
        }
        return nil
    }
}
