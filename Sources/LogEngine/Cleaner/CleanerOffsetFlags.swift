/// Three bits for every offset of a range `[start, end)` of a log, set by the cleaner's newest-first mapping walk
/// (`LogCleaner.mapNewestFirst`): a record is at this offset (`present`), it is the latest record of its key in
/// the round (`latest`; keyless records never are), and it has no value (`tombstone`).
///
/// Memory: 3 bits per offset of the range, allocated up front (`byteCount(offsets:)`).
/// Thread-safety: a value type; one thread fills it, then any number read it.
struct CleanerOffsetFlags: Sendable {
    let start: Int64
    let end: Int64
    private var present: [UInt64]
    private var latest: [UInt64]
    private var tombstone: [UInt64]

    /// Counts over the offsets of one batch.
    struct Counts: Equatable {
        var present = 0
        var latest = 0
        /// Records that are their key's latest and tombstones.
        var latestTombstones = 0
    }

    /// Flags for `[start, end)` (empty when `end <= start`); the caller checked `byteCount` against its budget.
    init(start: Int64, end: Int64) {
        self.start = start
        self.end = max(end, start)
        let words = Self.words(offsets: self.end &- start)
        present = Array(repeating: 0, count: words)
        latest = Array(repeating: 0, count: words)
        tombstone = Array(repeating: 0, count: words)
    }

    /// Bytes the flags of `offsets` offsets take (saturated at `Int.max`: offsets come from disk).
    static func byteCount(offsets: Int64) -> Int {
        let (bytes, overflow) = words(offsets: offsets).multipliedReportingOverflow(by: 24)
        return overflow ? Int.max : bytes
    }

    private static func words(offsets: Int64) -> Int { Int(max(offsets, 0) / 64) &+ 1 }

    func contains(_ offset: Int64) -> Bool { offset >= start && offset < end }

    /// Marks a record at `offset` (in the range), its key's latest or not, a tombstone or not.
    mutating func record(_ offset: Int64, latest isLatest: Bool, tombstone isTombstone: Bool) {
        let (word, bit) = Self.position(offset &- start)
        present[word] |= bit
        if isLatest { latest[word] |= bit }
        if isTombstone { tombstone[word] |= bit }
    }

    /// The record at `offset` is no longer its key's latest.
    mutating func clearLatest(_ offset: Int64) {
        guard contains(offset) else { return }
        let (word, bit) = Self.position(offset &- start)
        latest[word] &= ~bit
    }

    func isLatest(_ offset: Int64) -> Bool {
        guard contains(offset) else { return false }
        let (word, bit) = Self.position(offset &- start)
        return latest[word] & bit != 0
    }

    /// The counts over `first...last` (both in the range).
    func counts(_ first: Int64, _ last: Int64) -> Counts {
        var counts = Counts()
        var index = first &- start
        let lastIndex = last &- start
        while index <= lastIndex {
            let word = Int(index / 64)
            let low = Int(index % 64)
            let high = lastIndex / 64 == index / 64 ? Int(lastIndex % 64) : 63
            let upTo = high == 63 ? UInt64.max : (UInt64(1) << UInt64(high + 1)) &- 1
            let mask = upTo & ~((UInt64(1) << UInt64(low)) &- 1)
            counts.present += (present[word] & mask).nonzeroBitCount
            counts.latest += (latest[word] & mask).nonzeroBitCount
            counts.latestTombstones += (latest[word] & tombstone[word] & mask).nonzeroBitCount
            index = Int64(word &+ 1) &* 64
        }
        return counts
    }

    private static func position(_ index: Int64) -> (word: Int, bit: UInt64) {
        (Int(index / 64), UInt64(1) << UInt64(index % 64))
    }
}
