import Testing
@testable import LogEngine

struct OffsetCheckpointFileTests {
    @Test func read_whenMalformed_throws() throws {
        let directory = TemporaryDirectory()
        let file = OffsetCheckpointFile(directory: directory.path, name: "cp")
        try FileSystem.writeAtomically("0\n2\nt 0 5\n", to: file.path, directory: directory.path)
        #expect(throws: LogEngineError.self) { try file.read() }
        try file.write([TopicPartition("a", 1): 7])
        #expect(try file.read() == [TopicPartition("a", 1): 7])
    }

    @Test func write_usesKafkasTextFormat() throws {
        let directory = TemporaryDirectory()
        let file = OffsetCheckpointFile(directory: directory.path, name: "cp")
        try file.write([TopicPartition("b", 0): 5, TopicPartition("a", 2): 9])
        #expect(try FileSystem.readString(file.path) == "0\n2\na 2 9\nb 0 5\n")
    }

    @Test func read_whenMissing_isEmpty() throws {
        let directory = TemporaryDirectory()
        #expect(try OffsetCheckpointFile(directory: directory.path, name: "none").read().isEmpty)
    }
}
