import Testing
@testable import LogEngine

struct OffsetIndexTests {
    private func makeIndex(_ directory: TemporaryDirectory, base: Int64 = 100, maxBytes: Int = 80) throws -> OffsetIndex {
        let index = OffsetIndex(path: directory.file("index"), baseOffset: base)
        try index.file.openForAppend(maxBytes: maxBytes, keepingEntries: 0)
        return index
    }

    @Test func lookup_whenEmpty_returnsBaseOffsetAndZero() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        #expect(index.lookup(150) == (100, 0))
    }

    @Test func lookup_whenTargetBelowFirstEntry() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.append(offset: 110, position: 500)
        #expect(index.lookup(105) == (100, 0))
    }

    @Test func lookup_findsFloorEntry() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        for step in 1...5 { index.append(offset: 100 + Int64(step * 10), position: step * 1000) }
        #expect(index.lookup(110) == (110, 1000))
        #expect(index.lookup(129) == (120, 2000))
        #expect(index.lookup(150) == (150, 5000))
        #expect(index.lookup(10_000) == (150, 5000))
        #expect(index.lastEntry! == (150, 5000))
    }

    @Test func append_whenFull_returnsFalse() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory, maxBytes: 16)
        #expect(index.append(offset: 101, position: 10))
        #expect(index.append(offset: 102, position: 20))
        #expect(index.file.isFull)
        #expect(!index.append(offset: 103, position: 30))
    }

    @Test func trim_shrinksFileToEntries_andReloadFindsThem() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory, maxBytes: 4096)
        #expect(FileSystem.fileInfo(index.file.path)?.size == 4096)
        index.append(offset: 101, position: 10)
        index.append(offset: 105, position: 90)
        try index.file.trim()
        #expect(FileSystem.fileInfo(index.file.path)?.size == 16)
        let reloaded = OffsetIndex(path: index.file.path, baseOffset: 100)
        #expect(reloaded.file.count == 2)
        #expect(reloaded.lookup(104) == (101, 10))
        try reloaded.validate(logSize: 100)
    }

    @Test func validate_whenEntryPointsPastLogEnd_throwsCorruptIndex() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.append(offset: 101, position: 10)
        index.append(offset: 105, position: 9000)
        #expect(throws: LogEngineError.self) { try index.validate(logSize: 500) }
    }

    @Test func validate_whenOffsetsGoBackwards_throwsCorruptIndex() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.append(offset: 105, position: 10)
        index.append(offset: 104, position: 20)
        #expect(throws: LogEngineError.self) { try index.validate(logSize: 500) }
    }

    @Test func snapshot_whenSizeNotMultipleOfEntry_throwsCorruptIndex() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("odd.index")
        try FileSystem.writeAtomically("12345", to: path, directory: directory.path)
        let index = OffsetIndex(path: path, baseOffset: 0)
        #expect(throws: LogEngineError.self) { _ = try index.file.snapshot() }
    }
}
