import Foundation
import Testing
@testable import LogEngine

struct FileSystemTests {
    @Test func writeAtomically_replacesContentsAndLeavesNoTemporaryFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("f")
        try FileSystem.writeAtomically("one", to: path, directory: directory.path)
        try FileSystem.writeAtomically("two", to: path, directory: directory.path)
        #expect(try FileSystem.readString(path) == "two")
        #expect(try FileSystem.list(directory.path) == ["f"])
    }

    @Test func pwriteAllAndPreadAll_roundTrip() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        let fd = try FileSystem.open(path, create: true)
        defer { _ = close(fd) }
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try bytes.withUnsafeBytes { try FileSystem.pwriteAll(fd, $0, at: 100, path: path) }
        #expect(try FileSystem.size(of: fd, path: path) == 10_100)
        var back = [UInt8](repeating: 0, count: 10_000)
        try back.withUnsafeMutableBytes { try FileSystem.preadAll(fd, into: $0, at: 100, path: path) }
        #expect(back == bytes)
    }

    @Test func open_whenMissing_throwsIO() {
        #expect(throws: LogEngineError.self) { try FileSystem.open("/nonexistent/dir/file") }
    }

    @Test func removeDirectory_removesFilesAndDirectory() throws {
        let directory = TemporaryDirectory()
        let sub = directory.file("sub")
        try FileSystem.makeDirectory(sub)
        try FileSystem.writeAtomically("x", to: sub + "/a", directory: sub)
        try FileSystem.removeDirectory(sub)
        #expect(!FileSystem.exists(sub))
    }
}
