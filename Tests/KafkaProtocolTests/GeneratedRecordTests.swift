import KafkaProtocol
import NIOCore
import Testing

@Suite struct GeneratedRecordTests {
    @Test(arguments: allRecordSamples)
    func everyVersion_roundTripsPopulatedValues(_ sample: MessageSampleCase) throws {
        for version in sample.versions {
            for seed in [1, 4, 9] {
                #expect(try sample.check(version, seed) >= 0)
            }
        }
    }

    @Test func registry_coversEveryKeyAndValueSchema() {
        let names = Set(allRecordSamples.map(\.name))
        #expect(names.count == 36)
        for name in names where name.hasSuffix("Key") {
            #expect(names.contains(String(name.dropLast(3)) + "Value"), "\(name) has no value schema")
        }
    }

    @Test func encodedRecord_prefixesTheVersion() throws {
        let key = OffsetCommitKey(group: "g", topic: "t", partition: 2)
        let bytes = try key.encodedRecord(version: 1)
        #expect(Array(bytes.readableBytesView) == [0, 1, 0, 1, 0x67, 0, 1, 0x74, 0, 0, 0, 2])
        let decoded = try OffsetCommitKey.decodeRecord(bytes)
        #expect(decoded.version == 1 && decoded.record == key)
    }

    @Test func flexibleValue_roundTripsWithTaggedFields() throws {
        let value = OffsetCommitValue(offset: 7, leaderEpoch: 3, metadata: "m", commitTimestamp: 9)
        let bytes = try value.encodedRecord(version: 4)
        #expect(Array(bytes.readableBytesView) ==
            [0, 4, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, 2, 0x6D, 0, 0, 0, 0, 0, 0, 0, 9, 0])
        let decoded = try OffsetCommitValue.decodeRecord(bytes)
        #expect(decoded.version == 4 && decoded.record == value)
    }

    @Test func decodeRecord_whenVersionIsUnknown_throws() {
        #expect(throws: KafkaProtocolError.self) {
            try ConsumerGroupMetadataValue.decodeRecord(ByteBuffer(bytes: [0, 1, 0, 0, 0, 5, 0]))
        }
        #expect(throws: KafkaProtocolError.self) { try OffsetCommitKey.decodeRecord(ByteBuffer(bytes: [0])) }
    }

    @Test func encoding_whenAStringExceedsTheInt16Limit_throwsEvenWhenCompact() {
        let long = String(repeating: "x", count: Int(Int16.max) + 1)
        #expect(throws: KafkaProtocolError.self) { try GroupMetadataKey(group: long).encodedRecord(version: 2) }
        #expect(throws: KafkaProtocolError.self) {
            try ConsumerGroupMemberMetadataValue(clientId: long).encodedRecord(version: 0)
        }
        #expect(throws: KafkaProtocolError.self) {
            try ConsumerGroupMemberMetadataValue(subscribedTopicNames: [long]).encodedRecord(version: 0)
        }
        let fitting = String(repeating: "x", count: Int(Int16.max))
        #expect(throws: Never.self) { try ConsumerGroupMemberMetadataValue(clientId: fitting).encodedRecord(version: 0) }
    }
}
