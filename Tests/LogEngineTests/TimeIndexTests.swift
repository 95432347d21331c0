import Testing
@testable import LogEngine

struct TimeIndexTests {
    private func makeIndex(_ directory: TemporaryDirectory) throws -> TimeIndex {
        let index = TimeIndex(path: directory.file("timeindex"), baseOffset: 50)
        try index.file.openForAppend(maxBytes: 120, keepingEntries: 0)
        return index
    }

    @Test func lookup_whenTargetBelowFirstEntry_returnsNil() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.maybeAppend(timestamp: 1000, offset: 55)
        #expect(index.lookup(999) == nil)
    }

    @Test func lookup_findsFloorEntry() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.maybeAppend(timestamp: 1000, offset: 55)
        index.maybeAppend(timestamp: 2000, offset: 60)
        index.maybeAppend(timestamp: 3000, offset: 70)
        #expect(index.lookup(1000)! == (1000, 55))
        #expect(index.lookup(2500)! == (2000, 60))
        #expect(index.lookup(9999)! == (3000, 70))
    }

    @Test func maybeAppend_whenTimestampNotNewer_skips() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.maybeAppend(timestamp: 1000, offset: 55)
        index.maybeAppend(timestamp: 1000, offset: 56)
        index.maybeAppend(timestamp: 900, offset: 57)
        #expect(index.file.count == 1)
        try index.validate(lastOffset: 60)
    }

    @Test func validate_whenEntryPastLastOffset_throws() throws {
        let directory = TemporaryDirectory()
        let index = try makeIndex(directory)
        index.maybeAppend(timestamp: 1000, offset: 90)
        #expect(throws: LogEngineError.self) { try index.validate(lastOffset: 80) }
    }
}
