import Foundation
import Testing
@testable import LogEngine

/// Kills a child (tools/logengine-crash-writer --truncate) that appends, starts leader epochs (rewriting the
/// epoch checkpoint) and truncates, with SIGKILL at random moments; the log must then open consistent: whole
/// batches with contiguous offsets, an epoch cache that agrees with the batches' epochs, and nothing durable
/// lost (the log end at least the last durable end, or the truncation point of a truncation under way).
struct TruncationCrashTests {
    @Test(.timeLimit(.minutes(1)))
    func killedTruncatingWriter_leavesAConsistentLog() throws {
        let writer = try #require(CrashTests.writerPath(), "logengine-crash-writer not built next to the tests")
        let directory = TemporaryDirectory()
        let partition = directory.file("truncate-0")
        var generator = SystemRandomNumberGenerator()
        for run in 0..<12 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: writer)
            process.arguments = ["--truncate", partition, String(run)]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            usleep(UInt32.random(in: 50_000...300_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            lines.removeLast()  // empty, or a torn last line
            // The smallest end the log may open with: the last durable end, or below it a truncation under way.
            var floor: Int64 = 0
            for line in lines {
                let fields = line.split(separator: " ")
                guard fields.count == 2, let value = Int64(fields[1]) else { continue }
                floor = fields[0] == "E" ? value : min(floor, value)
            }
            try verify(partition: partition, floor: floor)
        }
    }

    private func verify(partition: String, floor: Int64) throws {
        let log = try PartitionLog(directory: partition)
        defer { try? log.close() }
        #expect(log.logEndOffset >= floor)
        var next: Int64 = 0
        var epochs: [(offset: Int64, epoch: Int32)] = []
        for header in try Batches.headers(try allLogBytes(log)) {  // validates each CRC
            #expect(header.baseOffset == next, "offsets must be contiguous")
            next = header.nextOffset
            epochs.append((header.baseOffset, header.partitionLeaderEpoch))
        }
        #expect(next == log.logEndOffset)
        let entries = log.leaderEpochCache.entries
        #expect(entries.allSatisfy { $0.startOffset <= log.logEndOffset })
        for (offset, epoch) in epochs {
            let owner = entries.last { $0.startOffset <= offset }
            #expect(owner?.epoch == epoch, "batch at \(offset) has epoch \(epoch), the cache says \(String(describing: owner))")
        }
    }
}
