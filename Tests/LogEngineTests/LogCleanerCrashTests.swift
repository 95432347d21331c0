import Foundation
import Testing
@testable import LogEngine

/// Kills a process that appends keyed updates and cleans (tools/logengine-crash-writer --clean) with SIGKILL at
/// random moments, 20 times; after each, the reopened log holds every key's latest acknowledged value, no offset
/// twice, offsets increasing, and no leftover of a swap.
struct LogCleanerCrashTests {
    @Test(.timeLimit(.minutes(1)))
    func killedCleaner_losesNoLatestValue() throws {
        let writer = try #require(CrashTests.writerPath(), "logengine-crash-writer not built next to the tests")
        let directory = TemporaryDirectory()
        var config = LogConfig(segmentBytes: 8 * 1024, indexIntervalBytes: 512, segmentIndexBytes: 8 * 1024, retentionMs: -1)
        config.compact = true
        config.minCleanableDirtyRatio = 0
        /// Acknowledged records: offset → (key, value).
        var acknowledged: [Int64: (String, String)] = [:]
        var generator = SystemRandomNumberGenerator()
        var cleanedRuns = 0
        for run in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = ["--clean", directory.path, String(run)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            usleep(UInt32.random(in: 60_000...300_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()
            for line in lines {
                let fields = line.split(separator: " ")
                if fields.count == 3, let offset = Int64(fields[0]) {
                    acknowledged[offset] = (String(fields[1]), String(fields[2]))
                }
            }
            let manager = try LogManager(directory: directory.path, defaultConfig: config)
            guard let log = manager.log(for: TopicPartition("compacted", 0)) else {
                // Killed before the writer created the partition: nothing may have been acknowledged.
                #expect(acknowledged.isEmpty, "run \(run): records acknowledged but no partition")
                try manager.close()
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: log.directory)
            #expect(!names.contains { $0.hasSuffix(".swap") || $0.hasSuffix(".cleaned") })
            let records = try LogCleanerTests.readAll(log)
            #expect(zip(records, records.dropFirst()).allSatisfy { $0.offset < $1.offset }, "run \(run)")
            var latestAcknowledged: [String: (Int64, String)] = [:]
            for (offset, (key, value)) in acknowledged where offset > (latestAcknowledged[key]?.0 ?? -1) {
                latestAcknowledged[key] = (offset, value)
            }
            let byOffset = Dictionary(records.map { ($0.offset, $0) }, uniquingKeysWith: { first, _ in first })
            for (key, (offset, value)) in latestAcknowledged {
                #expect(byOffset[offset]?.value == value, "run \(run): \(key)'s latest value at \(offset) lost")
            }
            for record in records {
                if let (key, value) = acknowledged[record.offset] {
                    #expect(record.key == key && record.value == value, "run \(run): offset \(record.offset) differs")
                }
            }
            if records.count < acknowledged.count { cleanedRuns += 1 }
            try manager.close()
        }
        #expect(cleanedRuns > 0)
    }
}
