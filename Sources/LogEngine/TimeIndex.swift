/// The sparse time index of one segment (`<baseOffset>.timeindex`), Kafka's format:
/// ```
/// entry (12 bytes, big-endian): int64 timestamp, int32 relativeOffset (offset - baseOffset)
/// ```
/// An entry says: every batch up to this offset has a max timestamp at most this timestamp. Timestamps strictly
/// increase; an entry is added next to each offset index entry when the max timestamp so far has grown.
///
/// Thread-safety: appends from the single writer of the partition; lookups from any thread.
final class TimeIndex: @unchecked Sendable {
    static let entrySize = 12
    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64) {
        self.baseOffset = baseOffset
        self.file = IndexFile(path: path, entrySize: Self.entrySize)
    }

    /// Adds an entry when `timestamp` is newer than the last one.
    func maybeAppend(timestamp: Int64, offset: Int64) {
        let relative = offset - baseOffset
        guard relative >= 0, relative <= Int64(Int32.max) else { return }
        if let last = lastEntry, timestamp <= last.timestamp { return }
        _ = file.append { entry in
            entry.storeInt64BE(timestamp, at: 0)
            entry.storeInt32BE(Int32(relative), at: 8)
        }
    }

    /// The entry with the largest timestamp at most `timestamp`, or nil when there is none.
    func lookup(_ timestamp: Int64) -> (timestamp: Int64, offset: Int64)? {
        guard let (mapping, count) = try? file.snapshot(), let mapping, count > 0 else { return nil }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        let slot = IndexFile.floorSlot(count: count, target: timestamp) { bytes.int64BE(at: $0 * Self.entrySize) }
        guard let slot else { return nil }
        return (bytes.int64BE(at: slot * 12), baseOffset + Int64(bytes.int32BE(at: slot * 12 + 8)))
    }

    var lastEntry: (timestamp: Int64, offset: Int64)? {
        guard let (mapping, count) = try? file.snapshot(), let mapping, count > 0 else { return nil }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        let at = (count - 1) * Self.entrySize
        return (bytes.int64BE(at: at), baseOffset + Int64(bytes.int32BE(at: at + 8)))
    }

    /// Timestamps strictly increasing, offsets non-decreasing and at most `lastOffset`. Throws `corruptIndex`.
    func validate(lastOffset: Int64) throws {
        let (mapping, count) = try file.snapshot()
        guard count > 0, let mapping else { return }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        var previousTimestamp = Int64.min
        var previousOffset: Int32 = -1
        for slot in 0..<count {
            let timestamp = bytes.int64BE(at: slot * 12)
            let relative = bytes.int32BE(at: slot * 12 + 8)
            if timestamp <= previousTimestamp || relative < previousOffset || baseOffset + Int64(relative) > lastOffset {
                throw LogEngineError(.corruptIndex, "entry \(slot) out of order or past the log end", context: file.path)
            }
            previousTimestamp = timestamp
            previousOffset = relative
        }
    }
}
