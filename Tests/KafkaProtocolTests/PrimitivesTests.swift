import NIOCore
import Testing
@testable import KafkaProtocol

struct PrimitivesTests {
    private func written(_ body: (inout KafkaWriter) throws -> Void) rethrows -> [UInt8] {
        var writer = KafkaWriter()
        try body(&writer)
        return Array(writer.buffer.readableBytesView)
    }

    @Test func unsignedVarint_matchesKnownEncodings() throws {
        let vectors: [(UInt32, [UInt8])] = [
            (0, [0x00]), (1, [0x01]), (127, [0x7F]), (128, [0x80, 0x01]), (300, [0xAC, 0x02]),
            (UInt32.max, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
        ]
        for (value, bytes) in vectors {
            #expect(written { $0.writeUnsignedVarint(value) } == bytes)
            var buffer = ByteBuffer(bytes: bytes)
            #expect(try buffer.readUnsignedVarint(field: "v") == value)
        }
    }

    @Test func zigzagVarints_roundTripExtremes() throws {
        #expect(written { $0.writeVarint(-1) } == [0x01])
        #expect(written { $0.writeVarint(1) } == [0x02])
        #expect(written { $0.writeVarint(-64) } == [0x7F])
        for value in [Int32.min, -1, 0, 1, Int32.max] {
            var buffer = ByteBuffer(bytes: written { $0.writeVarint(value) })
            #expect(try buffer.readVarint(field: "v") == value)
        }
        for value in [Int64.min, -300, 0, 300, Int64.max] {
            var buffer = ByteBuffer(bytes: written { $0.writeVarlong(value) })
            #expect(try buffer.readVarlong(field: "v") == value)
        }
    }

    @Test func unsignedVarint_rejectsOverlongInput() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        #expect(throws: KafkaProtocolError.self) { try buffer.readUnsignedVarint(field: "v") }
        var truncated = ByteBuffer(bytes: [0x80, 0x80])
        #expect(throws: KafkaProtocolError.self) { try truncated.readUnsignedVarint(field: "v") }
    }

    @Test func strings_encodeNullAndCompactForms() throws {
        #expect(try written { try $0.writeString(nil, compact: false, field: "s") } == [0xFF, 0xFF])
        #expect(try written { try $0.writeString(nil, compact: true, field: "s") } == [0x00])
        #expect(try written { try $0.writeString("ab", compact: false, field: "s") } == [0x00, 0x02, 0x61, 0x62])
        #expect(try written { try $0.writeString("ab", compact: true, field: "s") } == [0x03, 0x61, 0x62])
        var buffer = ByteBuffer(bytes: [0x03, 0x61, 0x62])
        #expect(try buffer.readKafkaString(compact: true, field: "s") == "ab")
    }

    @Test func nullWhereNotNullable_isAnError() {
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF])
        #expect(throws: KafkaProtocolError.self) { try buffer.readKafkaString(compact: false, field: "s") }
    }

    @Test func absurdLengths_areRejectedBeforeAllocating() {
        var negative = ByteBuffer(bytes: [0xFF, 0xFE, 0x41])
        #expect(throws: KafkaProtocolError.self) { try negative.readKafkaNullableString(compact: false, field: "s") }
        var huge = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0x00])
        #expect(throws: KafkaProtocolError.self) {
            try huge.readKafkaArray(compact: false, field: "a") { try $0.readKafkaInteger(Int32.self, field: "e") }
        }
        var hugeCompact = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(throws: KafkaProtocolError.self) { try hugeCompact.readKafkaNullableBytes(compact: true, field: "b") }
    }

    @Test func bytes_areSlicesOfTheInput() throws {
        var buffer = ByteBuffer(bytes: [0x00, 0x00, 0x00, 0x03, 1, 2, 3, 9])
        let bytes = try buffer.readKafkaBytes(compact: false, field: "b")
        #expect(Array(bytes.readableBytesView) == [1, 2, 3])
        #expect(buffer.readableBytes == 1)
    }

    @Test func uuid_roundTripsAndPrintsCanonically() throws {
        let uuid = KafkaUUID(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
        var buffer = ByteBuffer(bytes: written { $0.writeUUID(uuid) })
        #expect(try buffer.readKafkaUUID(field: "u") == uuid)
        #expect(uuid.description == "01234567-89ab-cdef-fedc-ba9876543210")
        #expect(KafkaUUID.random() != KafkaUUID.random())
    }

    @Test func taggedFields_areWrittenInTagOrder() throws {
        var tagged = TaggedFieldsWriter(unknown: [UnknownTaggedField(tag: 5, data: ByteBuffer(bytes: [9]))])
        tagged.add(tag: 1) { $0.writeInteger(UInt8(7)) }
        #expect(try written { try tagged.write(to: &$0) } == [0x02, 0x01, 0x01, 0x07, 0x05, 0x01, 0x09])
    }

    @Test func taggedFields_outOfOrderOrOversized_areErrors() {
        var outOfOrder = ByteBuffer(bytes: [0x02, 0x05, 0x00, 0x01, 0x00])
        #expect(throws: KafkaProtocolError.self) {
            var reader = try TaggedFieldsReader(&outOfOrder, field: "t")
            while try reader.next(&outOfOrder) != nil {}
        }
        var oversized = ByteBuffer(bytes: [0x01, 0x00, 0x10, 0x01])
        #expect(throws: KafkaProtocolError.self) {
            var reader = try TaggedFieldsReader(&oversized, field: "t")
            while try reader.next(&oversized) != nil {}
        }
    }
}
