import NIOCore
import Testing
@testable import LogEngine

struct FileSliceTests {
    @Test func readBufferAndCopyBytes_returnTheSameBytes() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        let bytes = Batches.bytes(count: 4, valueSize: 100)
        try log.append(Batches.buffer(bytes))
        let slice = try #require(try log.read(from: 2, maxBytes: 1 << 20))
        #expect(slice.position == 0 && slice.length == bytes.count)
        #expect(slice.firstOffset == 0 && slice.nextOffset == 4)
        let buffer = try slice.readBuffer()
        #expect(Array(buffer.readableBytesView) == Batches.stored(bytes, baseOffset: 0, leaderEpoch: 0))
        #expect(try slice.copyBytes() == Batches.stored(bytes, baseOffset: 0, leaderEpoch: 0))
    }

    @Test func fileDescriptor_readsTheSliceWithPread() throws {
        let directory = TemporaryDirectory()
        let log = try PartitionLog(directory: directory.path, config: smallConfig())
        try log.append(Batches.buffer(seed: 1))
        try log.append(Batches.buffer(seed: 2))
        let slice = try #require(try log.read(from: 3, maxBytes: 1))
        var bytes = [UInt8](repeating: 0, count: slice.length)
        try bytes.withUnsafeMutableBytes {
            try FileSystem.preadAll(slice.fileDescriptor, into: $0, at: slice.position, path: "")
        }
        #expect(bytes == Batches.stored(Batches.bytes(seed: 2), baseOffset: 3, leaderEpoch: 0))
    }
}
