import Dispatch
import NIOCore
import Testing
@testable import LogEngine

/// Helpers for batches of an idempotent producer.
enum ProducerBatches {
    static func bytes(
        producerId: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 2,
        timestamp: Int64 = 1_700_000_000_000, seed: Int = 0
    ) -> [UInt8] {
        var builder = RecordBatchEncoder(baseTimestamp: timestamp)
        builder.producerId = producerId
        builder.producerEpoch = epoch
        builder.baseSequence = sequence
        return builder.build(count: count) { Array("p\(producerId)-s\(sequence)-\(seed)-\($0)".utf8) }
    }

    static func buffer(
        producerId: Int64 = 7, epoch: Int16 = 0, sequence: Int32, count: Int = 2, timestamp: Int64 = 1_700_000_000_000
    ) -> ByteBuffer {
        ByteBuffer(bytes: bytes(producerId: producerId, epoch: epoch, sequence: sequence, count: count, timestamp: timestamp))
    }
}

func expectLogError(_ code: LogEngineError.Code, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(code)")
    } catch let error as LogEngineError {
        #expect(error.code == code)
    } catch {
        Issue.record("unexpected \(error)")
    }
}

struct ProducerStateTests {
    @Test func sequences_wrapAtInt32Max() {
        #expect(ProducerStateEntry.incrementSequence(5, by: 3) == 8)
        #expect(ProducerStateEntry.incrementSequence(Int32.max, by: 1) == 0)
        #expect(ProducerStateEntry.incrementSequence(Int32.max - 1, by: 3) == 1)
        #expect(ProducerStateEntry.decrementSequence(1, by: 3) == Int32.max - 1)
        #expect(ProducerStateEntry.decrementSequence(8, by: 3) == 5)
        #expect(ProducerStateEntry.inSequence(last: Int32.max, next: 0))
        #expect(ProducerStateEntry.inSequence(last: -1, next: 0))
        #expect(!ProducerStateEntry.inSequence(last: 4, next: 6))
    }

    @Test func duplicateOfAnyOfTheLastFiveBatches_getsItsOffsetsAndIsNotAppended() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        var infos: [AppendInfo] = []
        for index in 0..<6 {
            infos.append(try log.append(ProducerBatches.buffer(sequence: Int32(index * 2))))
        }
        let end = log.logEndOffset
        for index in 1..<6 {
            let again = try log.append(ProducerBatches.buffer(sequence: Int32(index * 2)))
            #expect(again.isDuplicate)
            #expect(again.firstOffset == infos[index].firstOffset && again.lastOffset == infos[index].lastOffset)
        }
        #expect(log.logEndOffset == end)
        // The oldest batch is no longer retained: resending it is out of order.
        expectLogError(.outOfOrderSequence) { try log.append(ProducerBatches.buffer(sequence: 0)) }
        #expect(log.logEndOffset == end)
        #expect(log.activeProducers.map(\.lastSequence) == [11])
    }

    @Test func gapsAndReorderedSequences_areOutOfOrder() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(ProducerBatches.buffer(sequence: 0, count: 3))
        expectLogError(.outOfOrderSequence) { try log.append(ProducerBatches.buffer(sequence: 4)) }
        expectLogError(.outOfOrderSequence) { try log.append(ProducerBatches.buffer(sequence: 2)) }
        // Same first sequence as a retained batch but a different range is not a duplicate.
        expectLogError(.outOfOrderSequence) { try log.append(ProducerBatches.buffer(sequence: 0, count: 1)) }
        #expect(log.logEndOffset == 3)
        #expect(try log.append(ProducerBatches.buffer(sequence: 3)).firstOffset == 3)
    }

    @Test func epochs_olderIsRejectedNewerMustStartAtZero() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(ProducerBatches.buffer(epoch: 3, sequence: 0))
        expectLogError(.invalidProducerEpoch) { try log.append(ProducerBatches.buffer(epoch: 2, sequence: 2)) }
        expectLogError(.outOfOrderSequence) { try log.append(ProducerBatches.buffer(epoch: 4, sequence: 2)) }
        let bumped = try log.append(ProducerBatches.buffer(epoch: 4, sequence: 0))
        #expect(!bumped.isDuplicate && bumped.firstOffset == 2)
        // The new epoch forgot the old epoch's batches, and the old epoch is fenced.
        expectLogError(.invalidProducerEpoch) { try log.append(ProducerBatches.buffer(epoch: 3, sequence: 0)) }
        let entry = try #require(log.activeProducers.first)
        #expect(entry.producerEpoch == 4 && entry.batches.count == 1)
    }

    @Test func unknownProducer_isAcceptedAtAnySequence() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let info = try log.append(ProducerBatches.buffer(producerId: 42, epoch: 2, sequence: 1000))
        #expect(!info.isDuplicate && info.firstOffset == 0)
        #expect(try log.append(ProducerBatches.buffer(producerId: 42, epoch: 2, sequence: 1002)).firstOffset == 2)
    }

    @Test func sequence_wrapsFromInt32MaxToZero() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(ProducerBatches.buffer(sequence: Int32.max - 1, count: 2))
        #expect(log.activeProducers.first?.lastSequence == Int32.max)
        try log.append(ProducerBatches.buffer(sequence: 0, count: 2))
        // A batch spanning the wrap: first Int32.max, last 0.
        let other = ProducerBatches.buffer(producerId: 8, sequence: Int32.max, count: 2)
        try log.append(other)
        #expect(log.activeProducers.first { $0.producerId == 8 }?.lastSequence == 0)
        #expect(try log.append(ProducerBatches.buffer(producerId: 8, sequence: Int32.max, count: 2)).isDuplicate)
        #expect(try log.append(ProducerBatches.buffer(producerId: 8, sequence: 1)).firstOffset == 6)
    }

    @Test func negativeSequenceWithProducerId_isInvalid() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        expectLogError(.invalidArgument) { try log.append(ProducerBatches.buffer(sequence: -1)) }
        #expect(log.logEndOffset == 0)
        // Batches without a producer id are not tracked.
        try log.append(Batches.buffer())
        #expect(log.activeProducers.isEmpty)
    }

    @Test func severalBatchesInOneRequest_areCheckedInOrderAndAllOrNothing() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let good = ProducerBatches.bytes(sequence: 0) + ProducerBatches.bytes(sequence: 2)
        #expect(try log.append(ByteBuffer(bytes: good)).lastOffset == 3)
        let bad = ProducerBatches.bytes(sequence: 4) + ProducerBatches.bytes(sequence: 9)
        expectLogError(.outOfOrderSequence) { try log.append(ByteBuffer(bytes: bad)) }
        #expect(log.logEndOffset == 4 && log.activeProducers.first?.lastSequence == 3)
    }

    @Test func concurrentRetriesOfOneBatch_appendItOnce() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig(segmentBytes: 1 << 20))
        for round in 0..<20 {
            let batch = ProducerBatches.bytes(sequence: Int32(round * 2))
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                _ = try? log.append(ByteBuffer(bytes: batch))
            }
        }
        #expect(log.logEndOffset == 40)
        #expect(log.activeProducers.first?.lastSequence == 39)
    }

    @Test func expiredProducers_areForgotten() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        var config = smallConfig()
        config.producerIdExpirationMs = 1000
        let log = try PartitionLog(directory: directory.path, config: config, clock: clock.logClock)
        try log.append(ProducerBatches.buffer(sequence: 0, timestamp: clock.read()))
        #expect(log.removeExpiredProducers() == 0)
        clock.advance(by: 2000)
        #expect(log.removeExpiredProducers() == 1)
        #expect(log.activeProducers.isEmpty)
        // Forgotten: any sequence is accepted again.
        try log.append(ProducerBatches.buffer(sequence: 50, timestamp: clock.read()))
    }
}
