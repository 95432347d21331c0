import LogEngine

/// Checks the entries of a segment's `.index` and `.timeindex` files (layouts in LogEngine's `OffsetIndex` and
/// `TimeIndex`: 8-byte `int32 relativeOffset, int32 position` and 12-byte `int64 timestamp, int32
/// relativeOffset` entries, big-endian) against the batches of its `.log` file.
///
/// Offset index entry (O, P) is sound when P is the start of a batch B inside the log, O lies above the last
/// offset of the batch before B and not above the segment's last offset (Portask and Kafka 3.7+ write B's last
/// offset; older Kafka the largest offset of the append that began with B), and entries strictly increase in
/// both fields. Time index entry (T, O) is sound when O falls inside a batch of the segment, T is not newer than
/// the newest batch max timestamp up to that batch, timestamps strictly increase and offsets never decrease.
///
/// Thread-safety: stateless functions over a private read-only mapping.
enum IndexCheck {
    /// At most this many entries of one kind are reported per file; the message counts the rest.
    static let reportLimit = 3

    /// Damage in the offset index at `path` (entry count returned too), given the scanned log.
    static func offsetIndex(path: String, log: SegmentCheck) throws -> (entries: Int, damage: [Damage]) {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        var collector = Collector(path: path)
        if bytes.count % 8 != 0 {
            collector.add(.indexSizeInvalid, nil, nil, "size \(bytes.count) is not a multiple of 8")
        }
        let base = log.effectiveBaseOffset
        let count = bytes.count / 8
        var entries = count
        var previous: (relative: Int32, position: Int32)? = nil
        for slot in 0..<count {
            if count > 1, let zeros = zeroTail(bytes, from: slot, entrySize: 8, count: count) {
                collector.add(.indexZeroFilled, slot * 8, nil, zeros)
                entries = slot
                break
            }
            let relative = bytes.int32(at: slot * 8)
            let position = bytes.int32(at: slot * 8 + 4)
            let offset = base + Int64(relative)
            let at = slot * 8
            if let previous, relative <= previous.relative || position <= previous.position {
                collector.add(.indexNotMonotonic, at, offset,
                              "entry \(slot) (offset \(offset), position \(position)) does not follow "
                              + "(offset \(base + Int64(previous.relative)), position \(previous.position))")
            } else if relative < 0 || position < 0 {
                collector.add(.indexNotMonotonic, at, offset, "entry \(slot) has a negative field")
            }
            previous = (relative, position)
            if Int(position) >= log.fileSize || position < 0 {
                collector.add(.indexEntryPastEnd, at, offset,
                              "entry \(slot) points at position \(position), the log has \(log.fileSize) bytes")
                continue
            }
            guard let batch = log.batchIndex(startingAt: Int(position)) else {
                collector.add(.indexEntryMidBatch, at, offset,
                              "entry \(slot) points at position \(position), which is not the start of a batch")
                continue
            }
            let floor = batch == 0 ? base : log.batches[batch - 1].lastOffset + 1
            let ceiling = log.lastOffset ?? base
            if offset < floor || offset > ceiling {
                collector.add(.indexEntryWrongOffset, at, offset,
                              "entry \(slot) maps offset \(offset) to the batch at \(position), which holds "
                              + "\(log.batches[batch].baseOffset)...\(log.batches[batch].lastOffset)")
            }
        }
        return (entries, collector.finish())
    }

    /// Damage in the time index at `path` (entry count returned too), given the scanned log.
    static func timeIndex(path: String, log: SegmentCheck) throws -> (entries: Int, damage: [Damage]) {
        let file = try MappedFile(path: path)
        let bytes = file.bytes
        var collector = Collector(path: path)
        if bytes.count % 12 != 0 {
            collector.add(.indexSizeInvalid, nil, nil, "size \(bytes.count) is not a multiple of 12")
        }
        let base = log.effectiveBaseOffset
        // Running max of batch max timestamps, per batch.
        var runningMax: [Int64] = []
        runningMax.reserveCapacity(log.batches.count)
        for batch in log.batches { runningMax.append(max(runningMax.last ?? -1, batch.maxTimestamp)) }
        let count = bytes.count / 12
        var entries = count
        var previous: (timestamp: Int64, relative: Int32)? = nil
        for slot in 0..<count {
            if count > 1, let zeros = zeroTail(bytes, from: slot, entrySize: 12, count: count) {
                collector.add(.indexZeroFilled, slot * 12, nil, zeros)
                entries = slot
                break
            }
            let timestamp = bytes.int64(at: slot * 12)
            let relative = bytes.int32(at: slot * 12 + 8)
            let offset = base + Int64(relative)
            let at = slot * 12
            if let previous, timestamp <= previous.timestamp || relative < previous.relative {
                collector.add(.timeIndexNotMonotonic, at, offset,
                              "entry \(slot) (timestamp \(timestamp), offset \(offset)) does not follow "
                              + "(timestamp \(previous.timestamp), offset \(base + Int64(previous.relative)))")
            }
            previous = (timestamp, relative)
            guard relative >= 0, let last = log.lastOffset, offset <= last else {
                collector.add(.timeIndexEntryPastEnd, at, offset,
                              "entry \(slot) names offset \(offset), outside the segment's batches")
                continue
            }
            guard let batch = batchIndex(containing: offset, in: log.batches) else {
                collector.add(.timeIndexEntryNotInBatch, at, offset,
                              "entry \(slot) names offset \(offset), which no batch holds")
                continue
            }
            if timestamp > runningMax[batch] {
                collector.add(.timeIndexTimestampMismatch, at, offset,
                              "entry \(slot) claims timestamp \(timestamp) at offset \(offset), the newest batch "
                              + "up to there has \(runningMax[batch])")
            }
        }
        return (entries, collector.finish())
    }

    /// When every entry from `slot` on is zero (and there are at least two entries) (an index preallocated by a broker that did not shut down
    /// cleanly), the message to report; nil otherwise.
    static func zeroTail(_ bytes: UnsafeRawBufferPointer, from slot: Int, entrySize: Int, count: Int) -> String? {
        let start = slot * entrySize
        // Most entries are not zero: reject on the entry's own bytes before scanning the tail.
        for index in start..<(start + entrySize) where bytes[index] != 0 { return nil }
        guard SegmentCheck.allZero(bytes, from: start) else { return nil }
        let place = slot == 0 ? "all \(count) entries are zero" : "\(count - slot) zero-filled entries after entry \(slot - 1)"
        return place + " (preallocated by a broker that did not shut down cleanly)"
    }

    /// The batch whose offsets include `offset` (batches ascending), or nil.
    static func batchIndex(containing offset: Int64, in batches: [SegmentCheck.Batch]) -> Int? {
        var low = 0
        var high = batches.count - 1
        while low <= high {
            let middle = (low + high) / 2
            if batches[middle].lastOffset < offset {
                low = middle + 1
            } else if batches[middle].baseOffset > offset {
                high = middle - 1
            } else {
                return middle
            }
        }
        return nil
    }

    /// Collects damage, keeping the first `reportLimit` of each kind and counting the others.
    struct Collector {
        let path: String
        var damage: [Damage] = []
        var counts: [Damage.Kind: Int] = [:]

        mutating func add(_ kind: Damage.Kind, _ position: Int?, _ offset: Int64?, _ message: String) {
            counts[kind, default: 0] += 1
            if counts[kind, default: 0] <= IndexCheck.reportLimit {
                damage.append(Damage(kind, file: path, position: position, offset: offset, message))
            }
        }

        func finish() -> [Damage] {
            var result = damage
            for (kind, count) in counts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > IndexCheck.reportLimit {
                result.append(Damage(kind, file: path, "\(count - IndexCheck.reportLimit) more entries like the above"))
            }
            return result
        }
    }
}

extension UnsafeRawBufferPointer {
    func int32(at offset: Int) -> Int32 {
        var value: UInt32 = 0
        for index in 0..<4 { value = value << 8 | UInt32(self[offset + index]) }
        return Int32(bitPattern: value)
    }

    func int64(at offset: Int) -> Int64 {
        var value: UInt64 = 0
        for index in 0..<8 { value = value << 8 | UInt64(self[offset + index]) }
        return Int64(bitPattern: value)
    }
}
