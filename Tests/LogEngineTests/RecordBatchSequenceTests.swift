import NIOCore
import Testing
@testable import LogEngine

struct RecordBatchSequenceTests {
    private func batch(base: Int64, count: Int = 2) -> [UInt8] {
        RecordBatchEncoder(baseOffset: base, baseTimestamp: 1000).build(count: count) { [UInt8(truncatingIfNeeded: $0)] }
    }

    /// The positions and base offsets yielded, and the stop, walking `bytes` with `check`.
    private func walk(
        _ bytes: [UInt8], from start: Int = 0, check: RecordBatchSequence.Check = .framing
    ) -> (batches: [(Int, Int64)], stop: RecordBatchStop?, position: Int) {
        bytes.withUnsafeBytes { raw in
            var iterator = RecordBatchSequence(raw, from: start, check: check).makeIterator()
            var batches: [(Int, Int64)] = []
            while let batch = iterator.next() {
                #expect(batch.end == batch.position + batch.header.totalSize)
                batches.append((batch.position, batch.header.baseOffset))
            }
            #expect(iterator.next() == nil)
            return (batches, iterator.stop, iterator.position)
        }
    }

    private func withLength(_ bytes: [UInt8], _ length: Int32) -> [UInt8] {
        var bytes = bytes
        bytes.withUnsafeMutableBytes { $0.storeInt32BE(length, at: 8) }
        return bytes
    }

    @Test func emptyInput_yieldsNothingAndNoStop() {
        let result = walk([])
        #expect(result.batches.isEmpty)
        #expect(result.stop == nil)
        #expect(result.position == 0)
    }

    @Test func oneBatch_yieldedWithItsHeader() {
        let one = batch(base: 5)
        let result = walk(one, check: .checksum)
        #expect(result.batches.map { $0.0 } == [0])
        #expect(result.batches.map { $0.1 } == [5])
        #expect(result.stop == nil)
        #expect(result.position == one.count)
    }

    @Test func manyBatches_yieldedInOrder() {
        let parts = (0..<5).map { batch(base: Int64($0 * 10), count: $0 + 1) }
        let result = walk(parts.flatMap { $0 }, check: .checksum)
        var positions: [Int] = []
        var position = 0
        for part in parts {
            positions.append(position)
            position += part.count
        }
        #expect(result.batches.map { $0.0 } == positions)
        #expect(result.batches.map { $0.1 } == [0, 10, 20, 30, 40])
        #expect(result.stop == nil)
    }

    @Test func startPosition_walksFromThere() {
        let first = batch(base: 0)
        let result = walk(first + batch(base: 2), from: first.count)
        #expect(result.batches.map { $0.1 } == [2])
    }

    @Test func startOutsideTheBytes_stopsOutOfRange() {
        #expect(walk(batch(base: 0), from: 10_000).stop?.reason == .outOfRange)
        #expect(walk(batch(base: 0), from: -1).stop?.reason == .outOfRange)
    }

    @Test func truncatedHeader_stopsAfterTheWholeBatches() {
        let first = batch(base: 0)
        let result = walk(first + Array(batch(base: 2).prefix(30)))
        #expect(result.batches.count == 1)
        #expect(result.stop?.reason == .truncatedHeader)
        #expect(result.stop?.position == first.count)
        #expect(result.stop?.header == nil)
        #expect(result.stop?.error.code == .corruptBatch)
        #expect(result.position == first.count)
    }

    @Test func truncatedBatch_stopsWithItsHeader() {
        let first = batch(base: 0)
        let second = batch(base: 2)
        let result = walk(first + Array(second.dropLast(3)))
        #expect(result.batches.count == 1)
        #expect(result.stop?.reason == .truncatedBatch)
        #expect(result.stop?.header?.baseOffset == 2)
    }

    @Test func zeroFilledTail_isNamedAsSuch() {
        let first = batch(base: 0)
        for zeros in [10, 61, 4096] {
            let result = walk(first + [UInt8](repeating: 0, count: zeros))
            #expect(result.batches.count == 1)
            #expect(result.stop?.reason == .zeroFilledTail)
            #expect(result.stop?.position == first.count)
        }
    }

    @Test func lyingLength_tooShortOrTooLong_stops() {
        let one = batch(base: 0)
        #expect(walk(withLength(one, 10)).stop?.reason == .badLength)
        #expect(walk(withLength(one, -1)).stop?.reason == .badLength)
        #expect(walk(withLength(one, Int32(one.count))).stop?.reason == .truncatedBatch)
        // A shorter length that still covers a header delimits a batch at framing level (its CRC fails).
        let shorter = withLength(one, Int32(one.count - 12 - 1))
        #expect(walk(shorter).batches.count == 1)
        #expect(walk(shorter, check: .checksum).stop?.reason == .crcMismatch)
    }

    @Test func lengthNearInt32Max_stopsWithoutTrapping() {
        let one = batch(base: 0)
        for length in [Int32.max, Int32.max - 11, Int32.max - 12, Int32.min] {
            let stop = walk(withLength(one, length)).stop
            #expect(stop?.reason == (length < 0 ? .badLength : .truncatedBatch))
            #expect(stop?.position == 0)
        }
    }

    @Test func structureCheck_stopsAtBadMagicAndBadCount() {
        var badMagic = batch(base: 0)
        badMagic[16] = 1
        #expect(walk(badMagic).batches.count == 1)
        #expect(walk(badMagic, check: .structure).stop?.reason == .badMagic)
        var badCount = batch(base: 0)
        badCount.withUnsafeMutableBytes { $0.storeInt32BE(7, at: 57) }
        #expect(walk(badCount, check: .structure).stop?.reason == .badRecordCount)
        var badCodec = batch(base: 0)
        badCodec[22] |= 0x07
        #expect(walk(badCodec, check: .structure).stop?.reason == .unknownCodec)
    }

    @Test func checksumCheck_stopsAtCorruptBatch() {
        let first = batch(base: 0)
        var second = batch(base: 2)
        second[second.count - 1] ^= 0xFF
        let result = walk(first + second, check: .checksum)
        #expect(result.batches.count == 1)
        #expect(result.stop?.reason == .crcMismatch)
        #expect(result.stop?.position == first.count)
        #expect(walk(first + second, check: .structure).stop == nil)
    }

    @Test func byteBuffer_positionsRelativeToReaderIndex() {
        let bytes = batch(base: 0) + batch(base: 2)
        var buffer = ByteBuffer(bytes: [9, 9, 9] + bytes + [1, 2])
        buffer.moveReaderIndex(forwardBy: 3)
        var iterator = RecordBatchSequence(buffer).makeIterator()
        var positions: [Int] = []
        while let batch = iterator.next() { positions.append(batch.position) }
        #expect(positions == [0, bytes.count / 2])
        #expect(iterator.stop?.reason == .truncatedHeader)
        #expect(iterator.stop?.position == bytes.count)
    }

    @Test func header_peeksWithoutChecks() {
        let one = withLength(batch(base: 3), 1)
        one.withUnsafeBytes { raw in
            #expect(RecordBatchSequence.header(in: raw, at: 0)?.baseOffset == 3)
            #expect(RecordBatchSequence.header(in: raw, at: raw.count - 10) == nil)
        }
    }
}
