import Glibc
import NIOCore
import Testing
@testable import KafkaProtocol

struct KafkaResponseFrameTests {
    @Test func apiVersionsResponse_alwaysUsesHeaderV0() throws {
        let response = ApiVersionsResponse(apiKeys: [.init(apiKey: 18, minVersion: 0, maxVersion: 4)])
        let parts = try KafkaResponseFrame.encode(response, version: 3, correlationId: 9)
        guard case .byteBuffer(var frame) = parts.first, parts.count == 1 else {
            Issue.record("expected one buffer")
            return
        }
        #expect(frame.readInteger(as: Int32.self) == Int32(frame.readableBytes))
        #expect(frame.readInteger(as: Int32.self) == 9)
        // Header v0 has no tagged section: the body's error code follows directly.
        #expect(frame.readInteger(as: Int16.self) == 0)
        frame.moveReaderIndex(to: 4)
        let decoded = try KafkaResponseFrame.decode(ApiVersionsResponse.self, frame: frame, version: 3)
        #expect(decoded.body == response)
    }

    @Test func fetchResponse_carriesFileRegionsAsTheirOwnParts() throws {
        let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: dup(0))
        defer { try? handle.close() }
        let region = FileRegion(fileHandle: handle, readerIndex: 100, endIndex: 1_100)
        let partition = FetchResponse.PartitionData(
            partitionIndex: 0, highWatermark: 10, records: RecordSet(parts: [.fileRegion(region)]))
        let response = FetchResponse(responses: [.init(topicId: KafkaUUID(high: 1, low: 2), partitions: [partition])])
        let parts = try KafkaResponseFrame.encode(response, version: 16, correlationId: 1)
        #expect(parts.count == 3)
        #expect(parts[1] == IOData.fileRegion(region))
        let total = parts.reduce(0) { $0 + $1.readableBytes }
        guard case .byteBuffer(let head) = parts[0] else {
            Issue.record("first part must be a buffer")
            return
        }
        #expect(head.getInteger(at: head.readerIndex, as: Int32.self) == Int32(total - 4))
        #expect(throws: KafkaProtocolError.self) { try response.encoded(version: 16) }
    }

    @Test func encodingAFieldAbsentFromTheVersion_isRejected() {
        let request = ProduceRequest(transactionalId: "txn")
        #expect(throws: KafkaProtocolError.self) { try request.encoded(version: 2) }
        #expect(throws: Never.self) { try request.encoded(version: 3) }
    }
}
