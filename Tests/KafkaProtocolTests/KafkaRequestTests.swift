import NIOCore
import Testing
@testable import KafkaProtocol

struct KafkaRequestTests {
    private func body(of frame: ByteBuffer) -> ByteBuffer {
        var frame = frame
        frame.moveReaderIndex(forwardBy: 4)
        return frame
    }

    @Test func requestHeader_v0v1v2_layouts() throws {
        let header = RequestHeader(apiKey: 3, apiVersion: 12, correlationId: 7, clientId: "c")
        var writer = KafkaWriter()
        try header.encode(to: &writer, headerVersion: 0)
        #expect(Array(writer.buffer.readableBytesView) == [0, 3, 0, 12, 0, 0, 0, 7])
        writer = KafkaWriter()
        try header.encode(to: &writer, headerVersion: 1)
        #expect(Array(writer.buffer.readableBytesView) == [0, 3, 0, 12, 0, 0, 0, 7, 0, 1, 0x63])
        writer = KafkaWriter()
        try header.encode(to: &writer, headerVersion: 2)
        #expect(Array(writer.buffer.readableBytesView) == [0, 3, 0, 12, 0, 0, 0, 7, 0, 1, 0x63, 0])
        var reading = writer.buffer
        #expect(try RequestHeader(from: &reading, headerVersion: 2) == header)
    }

    @Test func frame_decodesBackToTheSameRequest() throws {
        let metadata = MetadataRequest(topics: [.init(name: "t")], allowAutoTopicCreation: true)
        let frame = try KafkaRequest.frame(metadata, version: 12, correlationId: 42, clientId: "client")
        #expect(frame.getInteger(at: 0, as: Int32.self) == Int32(frame.readableBytes - 4))
        let request = try KafkaRequest.decode(frame: body(of: frame))
        #expect(request.apiKey == .metadata)
        #expect(request.header.correlationId == 42)
        #expect(request.header.clientId == "client")
        #expect(request.body as? MetadataRequest == metadata)
    }

    @Test func unknownApiKey_andUnsupportedVersion_areDistinctErrors() throws {
        var unknown = ByteBuffer(bytes: [0x7F, 0x00, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF])
        #expect(RequestHeader.peek(unknown)?.correlationId == 1)
        #expect(throws: KafkaProtocolError(.unknownApiKey, "unknown API key 32512")) {
            try KafkaRequest.decode(frame: unknown)
        }
        unknown.setInteger(Int16(18), at: 0)
        unknown.setInteger(Int16(99), at: 2)
        #expect(throws: KafkaProtocolError(.unsupportedVersion, "ApiVersions has no version 99")) {
            try KafkaRequest.decode(frame: unknown)
        }
    }

    @Test func everyTruncation_ofRealRequests_isAnErrorNotACrash() throws {
        let samples: [(any KafkaRequestMessage, Int16)] = [
            (ProduceRequest.sample(version: 11, seed: 3), 11),
            (FetchRequest.sample(version: 17, seed: 3), 17),
            (JoinGroupRequest.sample(version: 9, seed: 3), 9),
            (MetadataRequest.sample(version: 4, seed: 3), 4),
        ]
        for (message, version) in samples {
            let frame = body(of: try KafkaRequest.frame(message, version: version, correlationId: 1, clientId: "x"))
            for length in 0..<frame.readableBytes {
                let truncated = frame.getSlice(at: frame.readerIndex, length: length)!
                #expect(throws: KafkaProtocolError.self) { try KafkaRequest.decode(frame: truncated) }
            }
            #expect(try KafkaRequest.decode(frame: frame).apiKey == type(of: message).apiKey)
        }
    }

    @Test func trailingBytes_areIgnoredAsKafkaDoes() throws {
        let heartbeat = HeartbeatRequest(groupId: "g", generationId: 3, memberId: "m")
        var frame = body(of: try KafkaRequest.frame(heartbeat, version: 4, correlationId: 1, clientId: nil))
        frame.writeBytes([1, 0, 0])
        #expect(try KafkaRequest.decode(frame: frame).body as? HeartbeatRequest == heartbeat)
    }

    @Test func randomGarbage_neverCrashes_andFailsOnlyWithKafkaProtocolError() {
        var generator = SplitMix64(seed: 0x5EED)
        var failures = 0
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 64)
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if bytes.count >= 4 {
                bytes[0] = 0
                bytes[1] = UInt8(generator.next() % 75)
                bytes[2] = 0
                bytes[3] = UInt8(generator.next() % 18)
            }
            do {
                _ = try KafkaRequest.decode(frame: ByteBuffer(bytes: bytes))
            } catch is KafkaProtocolError {
                failures += 1
            } catch {
                Issue.record("decoding \(bytes) threw \(type(of: error)) (\(error)), not a KafkaProtocolError")
            }
        }
        // Every frame shorter than a header is refused, so thousands of the inputs are.
        #expect(failures > 1_000)
    }

    @Test func unknownTaggedFields_survivePassThrough() throws {
        let request = ApiVersionsRequest(
            clientSoftwareName: "n", clientSoftwareVersion: "1",
            unknownTaggedFields: [UnknownTaggedField(tag: 77, data: ByteBuffer(bytes: [1, 2]))])
        let frame = body(of: try KafkaRequest.frame(request, version: 3, correlationId: 5, clientId: "c"))
        #expect(try KafkaRequest.decode(frame: frame).body as? ApiVersionsRequest == request)
    }
}

/// A small deterministic generator for reproducible fuzz inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
