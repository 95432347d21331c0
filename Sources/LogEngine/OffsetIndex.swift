/// The sparse offset index of one segment (`<baseOffset>.index`), Kafka's format:
/// ```
/// entry (8 bytes, big-endian): int32 relativeOffset (offset - baseOffset), int32 position in the .log file
/// ```
/// An entry maps the last offset of a batch to the file position of that batch; entries are strictly increasing
/// in both fields. One is added every `index.interval.bytes` of appended data. No checksum: recovery rebuilds.
///
/// Thread-safety: appends from the single writer of the partition; lookups from any thread.
final class OffsetIndex: @unchecked Sendable {
    static let entrySize = 8
    let baseOffset: Int64
    let file: IndexFile

    init(path: String, baseOffset: Int64) {
        self.baseOffset = baseOffset
        self.file = IndexFile(path: path, entrySize: Self.entrySize)
    }

    /// Adds an entry; false when the index is full or the offset does not fit in 32 bits.
    @discardableResult
    func append(offset: Int64, position: Int) -> Bool {
        let relative = offset - baseOffset
        guard relative >= 0, relative <= Int64(Int32.max), position <= Int(Int32.max) else { return false }
        return file.append { entry in
            entry.storeInt32BE(Int32(relative), at: 0)
            entry.storeInt32BE(Int32(position), at: 4)
        }
    }

    /// The entry with the largest offset at most `offset`, or (baseOffset, 0) when there is none.
    func lookup(_ offset: Int64) -> (offset: Int64, position: Int) {
        guard let (mapping, count) = try? file.snapshot(), let mapping, count > 0 else { return (baseOffset, 0) }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        let slot = IndexFile.floorSlot(count: count, target: offset - baseOffset) {
            Int64(bytes.int32BE(at: $0 * Self.entrySize))
        }
        guard let slot else { return (baseOffset, 0) }
        return (baseOffset + Int64(bytes.int32BE(at: slot * 8)), Int(bytes.int32BE(at: slot * 8 + 4)))
    }

    /// The last entry, if any.
    var lastEntry: (offset: Int64, position: Int)? {
        guard let (mapping, count) = try? file.snapshot(), let mapping, count > 0 else { return nil }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        let at = (count - 1) * Self.entrySize
        return (baseOffset + Int64(bytes.int32BE(at: at)), Int(bytes.int32BE(at: at + 4)))
    }

    /// Kafka's sanity check, strengthened: offsets strictly increasing and non-negative, positions strictly
    /// increasing and inside the log. Throws `corruptIndex`.
    func validate(logSize: Int) throws {
        let (mapping, count) = try file.snapshot()
        guard count > 0, let mapping else { return }
        let bytes = mapping.bytes(count: count * Self.entrySize)
        var previousOffset: Int32 = -1
        var previousPosition: Int32 = -1
        for slot in 0..<count {
            let relative = bytes.int32BE(at: slot * 8)
            let position = bytes.int32BE(at: slot * 8 + 4)
            if relative <= previousOffset || position <= previousPosition || Int(position) >= logSize {
                throw LogEngineError(
                    .corruptIndex, "entry \(slot) (\(relative), \(position)) out of order or past the log end",
                    context: file.path)
            }
            previousOffset = relative
            previousPosition = position
        }
    }
}
