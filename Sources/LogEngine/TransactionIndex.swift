#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One aborted transaction of a partition, as Kafka's `AbortedTxn` records it in a segment's `.txnindex`.
///
/// Thread-safety: a value type.
public struct AbortedTransaction: Sendable, Equatable {
    public var producerId: Int64
    /// Offset of the transaction's first batch in this partition.
    public var firstOffset: Int64
    /// Offset of the abort marker.
    public var lastOffset: Int64
    /// The partition's last stable offset once the marker was written.
    public var lastStableOffset: Int64

    public init(producerId: Int64, firstOffset: Int64, lastOffset: Int64, lastStableOffset: Int64) {
        self.producerId = producerId
        self.firstOffset = firstOffset
        self.lastOffset = lastOffset
        self.lastStableOffset = lastStableOffset
    }
}

/// The transaction index of one segment, `<baseOffset>.txnindex`, in Kafka's format: the aborted transactions
/// whose abort marker lies in the segment, in marker order, 34 bytes each (big-endian):
/// ```
/// int16 version (0) | int64 producerId | int64 firstOffset | int64 lastOffset | int64 lastStableOffset
/// ```
/// The file exists only once a segment holds an abort marker. Recovery rebuilds the entries of the segments it
/// replays. Stateless: functions over files; callers serialise writes to one file (the partition's writer lock).
public enum TransactionIndex {
    public static let entrySize = 34
    public static let version: Int16 = 0

    public static func path(directory: String, baseOffset: Int64) -> String {
        directory + "/" + LogSegment.fileName(baseOffset, suffix: ".txnindex")
    }

    /// The 34 bytes of `entry`.
    public static func encode(_ entry: AbortedTransaction) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entrySize)
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        put(version)
        put(entry.producerId)
        put(entry.firstOffset)
        put(entry.lastOffset)
        put(entry.lastStableOffset)
        return bytes
    }

    /// The entries of `bytes`; a torn last entry is ignored, and reading stops at the first entry of an unknown
    /// version or with impossible offsets (untrusted data from disk).
    public static func decode(_ bytes: [UInt8]) -> [AbortedTransaction] {
        var entries: [AbortedTransaction] = []
        var position = 0
        func int64(_ at: Int) -> Int64 {
            var value: UInt64 = 0
            for index in at..<(at + 8) { value = value << 8 | UInt64(bytes[index]) }
            return Int64(bitPattern: value)
        }
        while position + entrySize <= bytes.count {
            let version = Int16(bitPattern: UInt16(bytes[position]) << 8 | UInt16(bytes[position + 1]))
            let entry = AbortedTransaction(
                producerId: int64(position + 2), firstOffset: int64(position + 10), lastOffset: int64(position + 18),
                lastStableOffset: int64(position + 26))
            guard version == Self.version, entry.firstOffset >= 0, entry.firstOffset <= entry.lastOffset else { break }
            entries.append(entry)
            position += entrySize
        }
        return entries
    }

    /// The entries of the segment at `baseOffset`; empty when it has no index file.
    static func read(directory: String, baseOffset: Int64) throws -> [AbortedTransaction] {
        guard let bytes = try FileSystem.readBytes(path(directory: directory, baseOffset: baseOffset)) else { return [] }
        return decode(bytes)
    }

    /// Appends `entry` to the index of the segment at `baseOffset` (created when absent); not fsynced.
    static func append(_ entry: AbortedTransaction, directory: String, baseOffset: Int64) throws {
        let file = path(directory: directory, baseOffset: baseOffset)
        let fd = try FileSystem.open(file, create: true)
        defer { _ = close(fd) }
        let size = try FileSystem.size(of: fd, path: file)
        // A torn entry left by a crash is overwritten, so entries stay 34-byte aligned.
        let aligned = size - size % entrySize
        try encode(entry).withUnsafeBytes { try FileSystem.pwriteAll(fd, $0, at: aligned, path: file) }
        if aligned != size { try FileSystem.truncate(fd, to: aligned + entrySize, path: file) }
    }

    /// Replaces the index of the segment at `baseOffset` with `entries` (durably); removes it when empty.
    static func rewrite(_ entries: [AbortedTransaction], directory: String, baseOffset: Int64) throws {
        let file = path(directory: directory, baseOffset: baseOffset)
        if entries.isEmpty {
            try FileSystem.unlink(file)
            return
        }
        try FileSystem.writeAtomically(bytes: entries.flatMap(encode), to: file, directory: directory)
    }
}
