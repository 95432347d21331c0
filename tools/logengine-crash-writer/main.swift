// Child process of the LogEngine crash test: appends batches durably to a partition log, forever, from several
// concurrent tasks, and prints one line per acknowledged append: "<baseOffset> <run> <sequence>".
// The parent kills it with SIGKILL and checks the log against the acknowledged lines.
//
// Usage: logengine-crash-writer <partition-directory> <run>
//
// With --clean, the child of the cleaner crash test instead: in the data directory given, appends keyed updates to
// the compacted partition `compacted-0` (durably, then one line "<offset> <key> <value>" per record), rolls, and
// cleans until nothing is left to clean, forever.
//
// Usage: logengine-crash-writer --clean <data-directory> <run>
//
// With --truncate, the child of the truncation crash test: appends batches, starts new leader epochs and
// truncates the partition log given (at batch boundaries), forever. Before each truncation it prints
// "T <offset>", after each durable step (flushed appends, a finished truncation) "E <log end offset>".
//
// Usage: logengine-crash-writer --truncate <partition-directory> <run>

import LogEngine
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes `message` to standard error with one write call.
func printError(_ message: String) {
    let bytes = Array((message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The batch for (run, sequence): the crash test regenerates the same bytes to compare.
func crashTestBatch(run: Int, sequence: Int) -> [UInt8] {
    let records = 1 + (run * 7 + sequence * 13) % 9
    let valueSize = [10, 100, 1000, 20_000][(sequence + run) % 4]
    return RecordBatchEncoder(baseTimestamp: Int64(run) * 1_000_000 + Int64(sequence)).build(count: records) { index in
        (0..<valueSize).map { UInt8(truncatingIfNeeded: run &* 31 &+ sequence &* 17 &+ index &+ $0) }
    }
}

let arguments = CommandLine.arguments
if arguments.count == 4, arguments[1] == "--clean", let run = Int(arguments[3]) {
    var config = LogConfig(segmentBytes: 8 * 1024, indexIntervalBytes: 512, segmentIndexBytes: 8 * 1024, retentionMs: -1)
    config.compact = true
    config.minCleanableDirtyRatio = 0
    do {
        let manager = try LogManager(directory: arguments[2], defaultConfig: config)
        let log = try manager.createLog(for: TopicPartition("compacted", 0))
        let cleaner = LogCleaner(config: .init(dedupeBufferBytes: 64 * 24))
        var next = 0
        while true {
            var lines = ""
            for _ in 0..<40 {
                let key = "k\(next % 25)"
                let value = "r\(run)-n\(next)"
                let batch = try RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).encode([
                    .init(key: Array(key.utf8), value: Array(value.utf8)),
                ])
                let info = try log.append(ByteBuffer(bytes: batch))
                lines += "\(info.firstOffset) \(key) \(value)\n"
                next += 1
            }
            try log.flush()
            let bytes = Array(lines.utf8)
            _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            try log.roll()
            while try manager.cleanFilthiestLog(with: cleaner) != nil {}
        }
    } catch {
        printError("cleaning child failed: \(error)")
        exit(1)
    }
}
if arguments.count == 4, arguments[1] == "--truncate", let run = Int(arguments[3]) {
    let config = LogConfig(segmentBytes: 16 * 1024, indexIntervalBytes: 512, segmentIndexBytes: 8 * 1024)
    func say(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    }
    do {
        let log = try PartitionLog(directory: arguments[2], config: config)
        var generator = SystemRandomNumberGenerator()
        var sequence = 0
        // Batch boundaries: truncations cut at one, so the log end after one is its offset exactly.
        var boundaries = [log.logEndOffset]
        while true {
            for _ in 0..<Int.random(in: 1...12, using: &generator) {
                try log.append(ByteBuffer(bytes: crashTestBatch(run: run, sequence: sequence)))
                boundaries.append(log.logEndOffset)
                sequence += 1
                if Int.random(in: 0..<5, using: &generator) == 0 { try log.becomeLeader(epoch: log.leaderEpoch + 1) }
            }
            try log.flush()
            say("E \(log.logEndOffset)")
            let candidates = boundaries.suffix(8)
            let target = candidates.randomElement(using: &generator) ?? log.logEndOffset
            say("T \(target)")
            try log.truncate(to: target)
            boundaries.removeAll { $0 > target }
            try log.flush()
            say("E \(log.logEndOffset)")
        }
    } catch {
        printError("truncating child failed: \(error)")
        exit(1)
    }
}
guard arguments.count == 3, let run = Int(arguments[2]) else {
    printError("usage: logengine-crash-writer <partition-directory> <run>")
    exit(2)
}
let config = LogConfig(segmentBytes: 256 * 1024, indexIntervalBytes: 4096, segmentIndexBytes: 64 * 1024)
let log: PartitionLog
do {
    log = try PartitionLog(directory: arguments[1], config: config)
} catch {
    printError("open failed: \(error)")
    exit(1)
}

let appenders = 4
await withTaskGroup(of: Void.self) { group in
    for appender in 0..<appenders {
        group.addTask {
            var sequence = appender
            while true {
                let bytes = crashTestBatch(run: run, sequence: sequence)
                do {
                    let info = try await log.appendDurably(ByteBuffer(bytes: bytes))
                    let line = Array("\(info.firstOffset) \(run) \(sequence)\n".utf8)
                    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                } catch {
                    printError("append failed: \(error)")
                    exit(1)
                }
                sequence += appenders
            }
        }
    }
}
