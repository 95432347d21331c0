import Foundation
import Testing
@testable import LogEngine

/// Kills a durable writer (tools/logengine-crash-writer) with SIGKILL at random moments and checks that every
/// acknowledged batch survives byte for byte and that nothing invalid is readable. Every third run also leaves a
/// zero-filled or garbage tail on the newest segment, as a power loss can.
struct CrashTests {
    /// Same generator as the writer's.
    static func crashTestBatch(run: Int, sequence: Int) -> [UInt8] {
        let records = 1 + (run * 7 + sequence * 13) % 9
        let valueSize = [10, 100, 1000, 20_000][(sequence + run) % 4]
        return RecordBatchEncoder(baseTimestamp: Int64(run) * 1_000_000 + Int64(sequence)).build(count: records) { index in
            (0..<valueSize).map { UInt8(truncatingIfNeeded: run &* 31 &+ sequence &* 17 &+ index &+ $0) }
        }
    }

    static func writerPath() -> String? {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("logengine-crash-writer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    @Test(.timeLimit(.minutes(1)))
    func killedWriter_neverLosesAcknowledgedBatches() throws {
        let writer = try #require(Self.writerPath(), "logengine-crash-writer not built next to the tests")
        let directory = TemporaryDirectory()
        let partition = directory.file("crash-0")
        /// Acknowledged batches as they must be stored, by base offset.
        var acknowledged: [Int64: [UInt8]] = [:]
        var generator = SystemRandomNumberGenerator()
        for run in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = [partition, String(run)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            usleep(UInt32.random(in: 80_000...400_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let text = String(decoding: data, as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()  // empty, or a torn last line
            for line in lines {
                let fields = line.split(separator: " ")
                if fields.count == 3, let offset = Int64(fields[0]), let r = Int(fields[1]), let s = Int(fields[2]) {
                    let bytes = Self.crashTestBatch(run: r, sequence: s)
                    #expect(acknowledged[offset] == nil, "offset \(offset) acknowledged twice")
                    acknowledged[offset] = Batches.stored(bytes, baseOffset: offset, leaderEpoch: 0)
                }
            }
            if run % 3 == 2 { try damageTail(of: partition, using: &generator) }
            try verify(partition: partition, acknowledged: acknowledged)
        }
        #expect(acknowledged.count > 20)
    }

    /// What a power loss can leave after the last fsync: a zero-filled or garbage tail on the newest segment.
    private func damageTail(of partition: String, using generator: inout SystemRandomNumberGenerator) throws {
        let logs = try FileManager.default.contentsOfDirectory(atPath: partition).filter { $0.hasSuffix(".log") }
        guard let newest = logs.max() else { return }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: partition + "/" + newest))
        defer { try? handle.close() }
        try handle.seekToEnd()
        let count = Int.random(in: 1...8192, using: &generator)
        let zeros = Bool.random(using: &generator)
        try handle.write(contentsOf: (0..<count).map { _ in zeros ? 0 : UInt8.random(in: 0...255, using: &generator) })
    }

    private func verify(partition: String, acknowledged: [Int64: [UInt8]]) throws {
        let log = try PartitionLog(
            directory: partition,
            config: LogConfig(segmentBytes: 256 * 1024, indexIntervalBytes: 4096, segmentIndexBytes: 64 * 1024))
        for (offset, expected) in acknowledged {
            let slice = try #require(try log.read(from: offset, maxBytes: 1), "offset \(offset) missing")
            #expect(slice.firstOffset == offset)
            let identical = try slice.withUnsafeBytes { stored in
                expected.withUnsafeBytes { wanted in
                    guard let a = stored.baseAddress, let b = wanted.baseAddress, stored.count == wanted.count else {
                        return false
                    }
                    return memcmp(a, b, wanted.count) == 0
                }
            }
            #expect(identical, "batch at \(offset) differs")
        }
        // Every readable batch is valid, offsets contiguous.
        var offset = log.logStartOffset
        while let slice = try log.read(from: offset, maxBytes: 1 << 22) {
            let headers = try Batches.headers(try slice.copyBytes())
            for header in headers {
                #expect(header.baseOffset == offset)
                offset = header.nextOffset
            }
        }
        #expect(offset == log.logEndOffset)
    }
}
