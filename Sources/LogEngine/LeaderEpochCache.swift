/// The leader epochs of one partition log and the offset each started at, kept in the partition directory in
/// Kafka's `leader-epoch-checkpoint` format:
/// ```
/// 0            version
/// 2            number of entries
/// 0 0          epoch start-offset
/// 3 1500
/// ```
/// Entries are strictly increasing in both epoch and start offset. The file is replaced atomically and durably
/// (temporary file, fsync, rename, directory fsync) whenever an entry is added or removed, which happens when an
/// epoch starts or the log is truncated, never on an ordinary append.
///
/// Thread-safety: a value type; the partition log keeps its copy under a lock.
public struct LeaderEpochCache: Sendable, Equatable {
    /// One epoch and the first offset written in it.
    public struct Entry: Sendable, Equatable, CustomStringConvertible {
        public var epoch: Int32
        public var startOffset: Int64

        public init(epoch: Int32, startOffset: Int64) {
            self.epoch = epoch
            self.startOffset = startOffset
        }

        public var description: String { "\(epoch) \(startOffset)" }
    }

    /// The file name inside a partition directory.
    public static let fileName = "leader-epoch-checkpoint"
    /// Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET.
    public static let undefinedEpoch: Int32 = -1
    public static let undefinedOffset: Int64 = -1

    /// Oldest first.
    public private(set) var entries: [Entry]

    public init(entries: [Entry] = []) {
        self.entries = entries
    }

    /// The newest epoch, nil when the cache is empty.
    public var latestEpoch: Int32? { entries.last?.epoch }

    /// Whether `assign(epoch:startOffset:)` would change the cache.
    public func needsUpdate(epoch: Int32, startOffset: Int64) -> Bool {
        guard epoch >= 0, startOffset >= 0 else { return false }
        guard let latest = entries.last else { return true }
        return latest.epoch != epoch || startOffset < latest.startOffset
    }

    /// Records that `epoch` starts at `startOffset`, as Kafka's `LeaderEpochFileCache.assign`: entries whose
    /// epoch or start offset is not below the new one are removed first, so the entries stay monotonic.
    /// Negative values are ignored. Returns whether the cache changed.
    @discardableResult
    public mutating func assign(epoch: Int32, startOffset: Int64) -> Bool {
        guard needsUpdate(epoch: epoch, startOffset: startOffset) else { return false }
        entries.removeAll { $0.epoch >= epoch || $0.startOffset >= startOffset }
        entries.append(Entry(epoch: epoch, startOffset: startOffset))
        return true
    }

    /// The answer to OffsetForLeaderEpoch for `requestedEpoch`, as Kafka's `LeaderEpochFileCache.endOffsetFor`:
    /// the latest epoch ends at `logEndOffset`; an older one at the start of the next larger epoch, reported
    /// with the largest known epoch not above it (or the requested epoch itself when it is older than every
    /// entry). Undefined (-1, -1) for epoch -1 and for epochs above the latest (or an empty cache).
    public func endOffset(for requestedEpoch: Int32, logEndOffset: Int64) -> (epoch: Int32, endOffset: Int64) {
        let undefined = (Self.undefinedEpoch, Self.undefinedOffset)
        guard requestedEpoch != Self.undefinedEpoch, let latest = entries.last else { return undefined }
        if latest.epoch == requestedEpoch { return (requestedEpoch, logEndOffset) }
        guard let higher = entries.firstIndex(where: { $0.epoch > requestedEpoch }) else { return undefined }
        guard higher > 0 else { return (requestedEpoch, entries[higher].startOffset) }
        return (entries[higher - 1].epoch, entries[higher].startOffset)
    }

    /// Removes the entries starting at or after `endOffset` (the log was cut there). Returns whether it changed.
    @discardableResult
    public mutating func truncateFromEnd(_ endOffset: Int64) -> Bool {
        let before = entries.count
        entries.removeAll { $0.startOffset >= endOffset }
        return entries.count != before
    }

    /// Drops the entries wholly below `startOffset` (the log now starts there): the newest entry at or below it
    /// is kept, moved up to `startOffset`, as Kafka does. Returns whether it changed.
    @discardableResult
    public mutating func truncateFromStart(_ startOffset: Int64) -> Bool {
        guard let floor = entries.lastIndex(where: { $0.startOffset <= startOffset }) else { return false }
        guard floor > 0 || entries[floor].startOffset != startOffset else { return false }
        entries.removeFirst(floor)
        entries[0].startOffset = startOffset
        return true
    }

    /// The file's text.
    public var text: String {
        var text = "0\n\(entries.count)\n"
        for entry in entries { text += "\(entry.epoch) \(entry.startOffset)\n" }
        return text
    }

    /// Parses the file's text. Throws `corruptIndex` when it is malformed or its entries are not strictly
    /// increasing (the count and every number are untrusted).
    public init(parsing text: String, path: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingSpaces() }
        guard lines.count >= 2, lines[0] == "0", let count = Int(lines[1]), count >= 0, count <= lines.count - 2 else {
            throw LogEngineError(.corruptIndex, "malformed leader epoch checkpoint header", context: path)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        for line in lines[2..<(count + 2)] {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let epoch = Int32(fields[0]), let offset = Int64(fields[1]),
                  epoch >= 0, offset >= 0
            else {
                throw LogEngineError(.corruptIndex, "malformed leader epoch entry \"\(line)\"", context: path)
            }
            if let last = entries.last, last.epoch >= epoch || last.startOffset >= offset {
                throw LogEngineError(.corruptIndex, "leader epoch entries out of order at \"\(line)\"", context: path)
            }
            entries.append(Entry(epoch: epoch, startOffset: offset))
        }
        self.entries = entries
    }

    /// Reads `<directory>/leader-epoch-checkpoint`; nil when the file does not exist.
    public static func read(directory: String) throws -> LeaderEpochCache? {
        let path = directory + "/" + fileName
        guard let text = try FileSystem.readString(path) else { return nil }
        return try LeaderEpochCache(parsing: text, path: path)
    }

    /// Replaces `<directory>/leader-epoch-checkpoint` atomically and durably.
    public func write(directory: String) throws {
        try FileSystem.writeAtomically(text, to: directory + "/" + Self.fileName, directory: directory)
    }
}
