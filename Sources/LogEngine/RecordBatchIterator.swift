/// The iterator of a `RecordBatchSequence`. After `next()` returned nil, `stop` tells why the walk ended early
/// (nil when it reached the end of the bytes) and `position` is where it ended.
///
/// Thread-safety: a value type; see `RecordBatchSequence` for the bytes it reads.
public struct RecordBatchIterator: IteratorProtocol {
    let storage: RecordBatchSequence.Storage
    let check: RecordBatchSequence.Check
    /// Where the next batch starts; once the walk ended, where it ended.
    public private(set) var position: Int
    /// Why the walk ended before the end of the bytes (nil while it goes on and when it reached the end).
    public private(set) var stop: RecordBatchStop?
    private var finished = false

    init(storage: RecordBatchSequence.Storage, position: Int, check: RecordBatchSequence.Check) {
        self.storage = storage
        self.position = position
        self.check = check
    }

    public mutating func next() -> RecordBatchSequence.Element? {
        if finished { return nil }
        let step: Result<RecordBatchSequence.Element, RecordBatchStop>?
        switch storage {
        case .raw(let bytes):
            step = RecordBatchSequence.step(bytes, at: position, check: check)
        case .buffer(let buffer):
            let (position, check) = (self.position, self.check)
            step = buffer.withUnsafeReadableBytes { RecordBatchSequence.step($0, at: position, check: check) }
        }
        switch step {
        case .success(let element):
            position = element.end
            return element
        case .failure(let stop):
            self.stop = stop
            finished = true
            return nil
        case nil:
            finished = true
            return nil
        }
    }
}
