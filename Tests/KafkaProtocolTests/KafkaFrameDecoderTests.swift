import NIOCore
import Testing
@testable import KafkaProtocol

struct KafkaFrameDecoderTests {
    private func frame(_ payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(payload.count).bigEndian) { bytes += $0 }
        return bytes + payload
    }

    @Test func nextFrame_splitsConcatenatedFrames() throws {
        let decoder = KafkaFrameDecoder(maximumFrameSize: 100)
        var buffer = ByteBuffer(bytes: frame([1, 2, 3]) + frame([]) + frame([4]))
        #expect(try decoder.nextFrame(from: &buffer).map { Array($0.readableBytesView) } == [1, 2, 3])
        #expect(try decoder.nextFrame(from: &buffer).map { Array($0.readableBytesView) } == [])
        #expect(try decoder.nextFrame(from: &buffer).map { Array($0.readableBytesView) } == [4])
        #expect(try decoder.nextFrame(from: &buffer) == nil)
    }

    @Test func nextFrame_fedByteByByte_waitsForTheWholeFrame() throws {
        let decoder = KafkaFrameDecoder(maximumFrameSize: 100)
        let bytes = frame([10, 20, 30, 40])
        var buffer = ByteBuffer()
        var frames: [[UInt8]] = []
        for byte in bytes {
            buffer.writeInteger(byte)
            if let frame = try decoder.nextFrame(from: &buffer) { frames.append(Array(frame.readableBytesView)) }
        }
        #expect(frames == [[10, 20, 30, 40]])
    }

    @Test func nextFrame_rejectsOversizedAndNegativeSizes() {
        let decoder = KafkaFrameDecoder(maximumFrameSize: 100)
        var oversized = ByteBuffer(bytes: [0x7F, 0xFF, 0xFF, 0xFF])
        #expect(throws: KafkaProtocolError(.frameTooLarge, "frame of 2147483647 bytes exceeds the limit of 100")) {
            try decoder.nextFrame(from: &oversized)
        }
        var negative = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFE])
        #expect(throws: KafkaProtocolError.self) { try decoder.nextFrame(from: &negative) }
    }
}
