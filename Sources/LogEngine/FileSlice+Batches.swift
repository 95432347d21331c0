extension FileSlice {
    /// One whole batch of a slice: its last offset and where it ends, in bytes from the slice's start.
    public struct BatchBound: Sendable, Equatable {
        public var lastOffset: Int64
        public var end: Int
    }

    /// The batches of the slice in order (a header walk through the segment's memory mapping, no copy).
    /// Thread-safe as the slice is: the bytes it covers are immutable once written.
    public func batchBounds() throws -> [BatchBound] {
        try withUnsafeBytes { bytes in
            RecordBatchSequence(bytes).map { BatchBound(lastOffset: $0.header.lastOffset, end: $0.end) }
        }
    }

    /// The leading whole batches of the slice through `bound` (one of `batchBounds()`); the slice itself when
    /// `bound` does not end inside it.
    public func prefix(through bound: BatchBound) -> FileSlice {
        guard bound.end > 0, bound.end < length else { return self }
        return FileSlice(
            file: file, position: position, length: bound.end, firstOffset: firstOffset,
            nextOffset: bound.lastOffset &+ 1, segment: segment)
    }
}
