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

    /// Feeds `stream` cut at `cuts` (offsets into it, any order) and returns the frames passed on.
    private func assemble(_ stream: [UInt8], cuts: [Int], maximumFrameSize: Int = 1 << 20) throws -> [[UInt8]] {
        let points = Set(cuts.filter { $0 > 0 && $0 < stream.count }).sorted()
        let reads = zip([0] + points, points + [stream.count]).map { $1 - $0 }
        return try assemble(stream, reads: reads.isEmpty ? [stream.count] : reads, maximumFrameSize: maximumFrameSize)
    }

    /// Frames of random bytes (so a reordered or misplaced byte shows), of random sizes including empty ones.
    private func randomPayloads(count: Int, maximumSize: Int, seed: UInt64) -> [[UInt8]] {
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let size = Int(generator.next() % UInt64(maximumSize + 1))
            return (0..<size).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        } + [[], [0, 0, 0, 4]]
    }

    @Test func sameStream_wholeByteByByteAndAtRandomSplits_yieldsTheSameFrames() throws {
        let payloads = randomPayloads(count: 60, maximumSize: 300, seed: 42)
        let stream = payloads.flatMap(frame)
        let whole = try assemble(stream, reads: [stream.count])
        #expect(whole == payloads)
        #expect(try assemble(stream, reads: [1]) == whole, "byte by byte")

        var generator = SplitMix64(seed: 2026)
        for round in 0..<50 {
            // From a few cuts to many: prefixes, frames and empty frames split everywhere.
            let cutCount = 1 + Int(generator.next() % UInt64(round < 25 ? 8 : 400))
            let cuts = (0..<cutCount).map { _ in Int(generator.next() % UInt64(stream.count)) }
            #expect(try assemble(stream, cuts: cuts) == whole, "round \(round), cuts \(cuts.sorted())")
        }
    }

    @Test func framesLargerThanTheUpFrontBuffer_atRandomSplits_yieldTheSameFrames() throws {
        // Split frames above 1 MiB are buffered in a growing buffer: the bytes must still arrive in order.
        var payloads = randomPayloads(count: 3, maximumSize: 2000, seed: 5)
        var generator = SplitMix64(seed: 6)
        payloads.insert((0..<(1 << 20) + 12_345).map { _ in UInt8(truncatingIfNeeded: generator.next()) }, at: 1)
        let stream = payloads.flatMap(frame)
        let whole = try assemble(stream, reads: [stream.count], maximumFrameSize: 4 << 20)
        #expect(whole == payloads)
        for seed: UInt64 in 1...4 {
            var random = SplitMix64(seed: seed)
            let cuts = (0..<200).map { _ in Int(random.next() % UInt64(stream.count)) }
            #expect(try assemble(stream, cuts: cuts, maximumFrameSize: 4 << 20) == whole, "seed \(seed)")
        }
        #expect(try assemble(stream, reads: [4096, 1, 3, 65_536], maximumFrameSize: 4 << 20) == whole)
    }

    @Test func truncatedStream_yieldsItsCompleteFramesOnly_whateverTheSplits() throws {
        let payloads = randomPayloads(count: 10, maximumSize: 200, seed: 9)
        let stream = payloads.flatMap(frame)
        // Cut inside the last non-empty frame's payload, and inside a size prefix.
        let lastFrameStart = stream.count - frame(payloads[payloads.count - 1]).count
        for end in [stream.count - 1, lastFrameStart + 2] {
            let truncated = Array(stream[..<end])
            let expected = Array(payloads.dropLast())
            #expect(try assemble(truncated, reads: [truncated.count]) == expected, "end \(end)")
            #expect(try assemble(truncated, reads: [1]) == expected, "end \(end), byte by byte")
            var generator = SplitMix64(seed: UInt64(end))
            let cuts = (0..<20).map { _ in Int(generator.next() % UInt64(truncated.count)) }
            #expect(try assemble(truncated, cuts: cuts) == expected, "end \(end), cuts \(cuts.sorted())")
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
