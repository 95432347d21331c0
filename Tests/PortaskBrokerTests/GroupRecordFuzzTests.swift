import KafkaProtocol
import LogEngine
import NIOCore
import Testing
@testable import PortaskBroker

/// Bounded-time fuzzing of what start-up reads from `__consumer_offsets`: mutated batches (with a recomputed,
/// valid CRC-32C) and mutated record keys and values must decode or be skipped, never trap.
struct GroupRecordFuzzTests {
    /// SplitMix64: deterministic, so a failure reproduces from its iteration number.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func seedRecords() throws -> [GroupRecord] {
        let member = StoredGroup.Member(
            memberId: "m", groupInstanceId: "i", clientId: "c", clientHost: "/h", rebalanceTimeoutMs: 1,
            sessionTimeoutMs: 2, subscription: ByteBuffer(bytes: [0, 1, 2]), assignment: ByteBuffer(bytes: [3]))
        return [
            .offset(group: "g", partition: TopicPartition("t", 1), value: CommittedOffset(offset: 7, metadata: "m", commitTimestamp: 9)),
            .metadata(group: "g", value: StoredGroup(
                protocolType: "consumer", generation: 3, protocolName: "range", leader: "m", members: [member])),
            .consumer(.groupEpoch(group: "g", epoch: 4)),
            .consumer(.member(group: "g", memberId: "m", .init(
                instanceId: "i", rackId: nil, clientId: "c", clientHost: "/h", subscribedTopicNames: ["t"],
                subscribedTopicRegex: "t.*", rebalanceTimeoutMs: 5, serverAssignor: "uniform"))),
            .consumer(.current(group: "g", memberId: "m", .init(
                memberEpoch: 4, previousMemberEpoch: 3, state: 1,
                assigned: [.init(topicId: KafkaUUID(high: 1, low: 2), partitions: [0, 1])], pendingRevocation: []))),
        ]
    }

    @Test func decodeAndRestore_whenBatchesAreMutated_neverTrap() async throws {
        let records = try Self.seedRecords()
        let batch = RecordBatchEncoder().build(try records.map {
            .init(key: Array(try $0.key().readableBytesView), value: try $0.value().map { Array($0.readableBytesView) })
        })
        var generator = Generator(state: 848)
        for _ in 0..<3000 {
            var mutated = batch
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: RecordBatchHeader.size..<mutated.count, using: &generator)
                mutated[index] = UInt8.random(in: 0...255, using: &generator)
            }
            let crc = mutated.withUnsafeBytes { RecordBatchHeader.computeCRC(in: $0, at: 0, totalSize: mutated.count) }
            mutated.replaceSubrange(17..<21, with: withUnsafeBytes(of: crc.bigEndian) { Array($0) })
            var report = OffsetsTopicLoadReport()
            let decoded = OffsetsTopic.decodeBatches(mutated, report: &report).compactMap {
                try? GroupRecord(key: $0.0, value: $0.1)
            }
            let (coordinator, _, _) = GroupFixtures.coordinator()
            await coordinator.restore(decoded)
            await coordinator.expireOffsets()
            if let group = coordinator.group("g") {
                _ = await group.heartbeat(memberId: "m", groupInstanceId: nil, generationId: 3)
                _ = await group.summary()
            }
            await coordinator.stop()
        }
    }

    @Test func decode_whenKeysAndValuesAreMutated_neverTraps() throws {
        var generator = Generator(state: 81)
        for record in try Self.seedRecords() {
            let key = Array(try record.key().readableBytesView)
            let value = try record.value().map { Array($0.readableBytesView) } ?? []
            for _ in 0..<2000 {
                var k = key
                var v = value
                let index = Int.random(in: 0..<(k.count + v.count), using: &generator)
                let byte = UInt8.random(in: 0...255, using: &generator)
                if index < k.count { k[index] = byte } else { v[index - k.count] = byte }
                if Bool.random(using: &generator) { v = Array(v.prefix(Int.random(in: 0...v.count, using: &generator))) }
                _ = try? GroupRecord(key: ByteBuffer(bytes: k), value: ByteBuffer(bytes: v))
            }
        }
    }
}
