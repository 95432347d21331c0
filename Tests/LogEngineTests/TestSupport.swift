import Foundation
import NIOCore
import Testing
@testable import LogEngine

/// A fresh directory under the system temporary directory, removed when the value is deinitialised.
final class TemporaryDirectory: @unchecked Sendable {
    let path: String

    init(_ name: String = #function) {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        path = NSTemporaryDirectory() + "logengine-\(safe)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String { path + "/" + name }
}

/// A clock tests move by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64

    init(_ start: Int64 = 1_700_000_000_000) { now = start }

    func advance(by ms: Int64) { lock.withLock { now += ms } }
    func read() -> Int64 { lock.withLock { now } }
    var logClock: LogClock { LogClock { [self] in read() } }
}

enum Batches {
    /// One valid batch of `count` records with values "value-<seed>-<i>", timestamps `timestamp + i`.
    static func bytes(count: Int = 3, timestamp: Int64 = 1_700_000_000_000, seed: Int = 0, valueSize: Int = 0) -> [UInt8] {
        RecordBatchEncoder(baseTimestamp: timestamp).build(count: count) { index in
            var value = Array("value-\(seed)-\(index)".utf8)
            if valueSize > value.count { value += [UInt8](repeating: UInt8(truncatingIfNeeded: seed), count: valueSize - value.count) }
            return value
        }
    }

    static func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static func buffer(count: Int = 3, timestamp: Int64 = 1_700_000_000_000, seed: Int = 0, valueSize: Int = 0) -> ByteBuffer {
        ByteBuffer(bytes: bytes(count: count, timestamp: timestamp, seed: seed, valueSize: valueSize))
    }

    /// The bytes a batch has once stored at `baseOffset` (CreateTime): by a segment as given, by a partition
    /// log's append with the log's `leaderEpoch` stamped too.
    static func stored(_ bytes: [UInt8], baseOffset: Int64, leaderEpoch: Int32? = nil) -> [UInt8] {
        var copy = bytes
        copy.withUnsafeMutableBytes { raw in
            RecordBatchHeader.rewriteBaseOffset(baseOffset, in: raw, at: 0)
            if let leaderEpoch { RecordBatchHeader.setPartitionLeaderEpoch(leaderEpoch, in: raw, at: 0) }
        }
        return copy
    }

    /// Headers of all batches in `bytes`.
    static func headers(_ bytes: [UInt8]) throws -> [RecordBatchHeader] {
        try bytes.withUnsafeBytes { raw in
            var result: [RecordBatchHeader] = []
            var position = 0
            while position < raw.count {
                let header = try RecordBatchHeader(parsing: raw, at: position)
                try header.validate(in: raw, at: position)
                result.append(header)
                position += header.totalSize
            }
            return result
        }
    }
}

/// Small configuration suited to tests: tiny segments and index interval.
func smallConfig(
    segmentBytes: Int = 4096, indexIntervalBytes: Int = 256, segmentIndexBytes: Int = 4096,
    retentionMs: Int64 = -1, retentionBytes: Int64 = -1, segmentMs: Int64 = 604_800_000,
    timestampType: LogConfig.TimestampType = .createTime, flushMessages: Int64 = .max, flushMs: Int64 = .max
) -> LogConfig {
    LogConfig(
        segmentBytes: segmentBytes, segmentMs: segmentMs, indexIntervalBytes: indexIntervalBytes,
        segmentIndexBytes: segmentIndexBytes, retentionMs: retentionMs, retentionBytes: retentionBytes,
        flushMessages: flushMessages, flushMs: flushMs, messageTimestampType: timestampType)
}

/// Every byte of `log` from its start to its log end (not bounded by the high watermark), segment by segment.
func allLogBytes(_ log: PartitionLog, from start: Int64? = nil) throws -> [UInt8] {
    var bytes: [UInt8] = []
    var next = start ?? log.logStartOffset
    while next < log.logEndOffset,
          let slice = try log.read(from: next, maxBytes: 1 << 24, upperBound: log.logEndOffset) {
        let chunk = try slice.copyBytes()
        guard let last = try Batches.headers(chunk).last else { break }
        bytes += chunk
        next = last.nextOffset
    }
    return bytes
}
