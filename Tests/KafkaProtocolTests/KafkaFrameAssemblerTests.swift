import NIOCore
import NIOEmbedded
import Testing
@testable import KafkaProtocol

struct KafkaFrameAssemblerTests {
    private func frame(_ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { bytes += $0 }
        return bytes + payload
    }

    /// Feeds `stream` in reads of the given sizes and returns the frames the assembler passed on.
    private func assemble(_ stream: [UInt8], reads: [Int], maximumFrameSize: Int = 1 << 20) throws -> [[UInt8]] {
        let channel = EmbeddedChannel(handler: KafkaFrameAssembler(maximumFrameSize: maximumFrameSize))
        var offset = 0
        var cursor = 0
        while offset < stream.count {
            let length = min(reads[cursor % reads.count], stream.count - offset)
            try channel.writeInbound(ByteBuffer(bytes: stream[offset..<(offset + length)]))
            offset += length
            cursor += 1
        }
        var frames: [[UInt8]] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) { frames.append(Array(frame.readableBytesView)) }
        _ = try? channel.finish()
        return frames
    }

    @Test func frames_comeOutWholeWhateverTheReadBoundaries() throws {
        var generator = SplitMix64(seed: 7)
        let payloads: [[UInt8]] = (0..<40).map { index in
            (0..<Int(generator.next() % 3000)).map { _ in UInt8(truncatingIfNeeded: index) }
        } + [[], [1]]
        let stream = payloads.flatMap(frame)
        for reads in [[stream.count], [1], [2, 3], [4], [5], [7, 1, 4096], [1000], [65_536]] {
            #expect(try assemble(stream, reads: reads) == payloads, "reads of \(reads)")
        }
    }

    @Test func oversizedAndNegativeSizes_areErrorsAndStopTheStream() {
        let oversized = EmbeddedChannel(handler: KafkaFrameAssembler(maximumFrameSize: 100))
        #expect(throws: KafkaProtocolError.self) {
            try oversized.writeInbound(ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF, 0, 0]))
        }
        let negative = EmbeddedChannel(handler: KafkaFrameAssembler(maximumFrameSize: 100))
        // Half a size prefix waits for the rest; the completed prefix is negative.
        #expect(throws: Never.self) { try negative.writeInbound(ByteBuffer(bytes: [0xFF, 0xFF])) }
        #expect(throws: KafkaProtocolError.self) { try negative.writeInbound(ByteBuffer(bytes: [0xFF, 0xFE])) }
        #expect(throws: Never.self) { try negative.writeInbound(ByteBuffer(bytes: self.frame([1]))) }
        #expect((try? negative.readInbound(as: ByteBuffer.self)) == nil)
    }
}
