import Testing
@testable import LogEngine

struct LogSegmentTests {
    /// Appends as the segment's one writer, whose state `state` is.
    private func appendBatch(
        _ segment: LogSegment, _ bytes: [UInt8], at base: Int64, state: inout LogSegment.WriterState
    ) throws {
        let stored = Batches.stored(bytes, baseOffset: base)
        let header = try Batches.headers(stored)[0]
        try stored.withUnsafeBytes {
            try segment.append($0, batches: [.init(relativePosition: 0, size: stored.count,
                                                   lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp)],
                               state: &state)
        }
    }

    @Test func fileName_isTwentyDigits() {
        #expect(LogSegment.fileName(42, suffix: ".log") == "00000000000000000042.log")
        #expect(LogSegment.fileName(0, suffix: ".index") == "00000000000000000000.index")
    }

    @Test func read_returnsBatchContainingOffset() throws {
        let directory = TemporaryDirectory()
        let segment = try LogSegment.create(directory: directory.path, baseOffset: 10, config: smallConfig(), nowMs: 0)
        var state = segment.storedWriterState
        var base: Int64 = 10
        var all: [UInt8] = []
        for seed in 0..<20 {
            let bytes = Batches.bytes(count: 3, seed: seed, valueSize: 40)
            try appendBatch(segment, bytes, at: base, state: &state)
            all += Batches.stored(bytes, baseOffset: base)
            base += 3
        }
        #expect(segment.size == all.count)
        #expect(state.nextOffset == 70)
        #expect(segment.offsetIndex.file.count > 0)
        let slice = try #require(try segment.read(from: 14, maxBytes: 1, upperBound: .max))
        #expect(slice.firstOffset == 13)
        #expect(slice.nextOffset == 16)
        let batchSize = all.count / 20
        #expect(slice.position == batchSize)
        #expect(try slice.copyBytes() == Array(all[batchSize..<(2 * batchSize)]))
        let many = try #require(try segment.read(from: 10, maxBytes: batchSize * 5 + 1, upperBound: .max))
        #expect(many.length == batchSize * 5)
        let bounded = try #require(try segment.read(from: 10, maxBytes: .max, upperBound: 16))
        #expect(bounded.nextOffset == 16)
        #expect(try segment.read(from: 70, maxBytes: 100, upperBound: .max) == nil)
    }

    @Test func read_whenFirstBatchLargerThanMaxBytes_returnsItWhole() throws {
        let directory = TemporaryDirectory()
        let segment = try LogSegment.create(directory: directory.path, baseOffset: 0, config: smallConfig(), nowMs: 0)
        var state = segment.storedWriterState
        let bytes = Batches.bytes(count: 2, valueSize: 1000)
        try appendBatch(segment, bytes, at: 0, state: &state)
        let slice = try #require(try segment.read(from: 0, maxBytes: 10, upperBound: .max))
        #expect(slice.length == bytes.count)
        #expect(try segment.read(from: 0, maxBytes: 10, upperBound: .max, minOneBatch: false) == nil)
    }

    @Test func recover_whenTailTorn_truncatesToLastValidBatch() throws {
        let directory = TemporaryDirectory()
        let segment = try LogSegment.create(directory: directory.path, baseOffset: 0, config: smallConfig(), nowMs: 0)
        var state = segment.storedWriterState
        let bytes = Batches.bytes()
        try appendBatch(segment, bytes, at: 0, state: &state)
        try appendBatch(segment, bytes, at: 3, state: &state)
        let partial = Array(Batches.stored(bytes, baseOffset: 6).prefix(30))
        try segment.withDescriptor { fd in try partial.withUnsafeBytes { try FileSystem.pwriteAll(fd, $0, at: segment.size, path: "") } }
        let reopened = try LogSegment.open(directory: directory.path, baseOffset: 0, config: smallConfig(), nowMs: 0)
        let result = try reopened.recover(truncate: true)
        #expect(result.validBytes == bytes.count * 2)
        #expect(result.invalidBytes == 30)
        #expect(reopened.size == bytes.count * 2)
        #expect(reopened.storedWriterState.nextOffset == 6)
    }
}

extension FileSlice: Equatable {
    public static func == (lhs: FileSlice, rhs: FileSlice) -> Bool {
        lhs.position == rhs.position && lhs.length == rhs.length && lhs.fileDescriptor == rhs.fileDescriptor
    }
}
