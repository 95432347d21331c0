import Foundation
import LogEngine
import NIOCore
import Testing
@testable import PortaskVerifyKit

/// Logs the cleaner compacted (offset gaps, thinned compressed batches, empty producer batches, delete horizons)
/// verify clean, deep checks included.
struct CompactedLogTests {
    @Test func cleanedLog_verifiesClean() throws {
        let directory = TemporaryDirectory()
        var config = LogConfig(segmentBytes: 4096, indexIntervalBytes: 128, segmentIndexBytes: 4096, retentionMs: -1)
        config.compact = true
        config.minCleanableDirtyRatio = 0
        let manager = try LogManager(directory: directory.path, defaultConfig: config)
        let log = try manager.createLog(for: TopicPartition("compacted", 0))
        for round in 0..<30 {
            for key in 0..<4 {
                var encoder = RecordBatchEncoder(
                    baseTimestamp: 1_700_000_000_000 + Int64(round), compression: round % 3 == 0 ? .gzip : .none)
                if key == 0 {
                    encoder.producerId = 5
                    encoder.producerEpoch = 0
                    encoder.baseSequence = Int32(round * 2)
                }
                let value: [UInt8]? = round == 29 && key == 3 ? nil : Array("value-\(round)-\(key)".utf8)
                try log.append(ByteBuffer(bytes: try encoder.encode([
                    .init(key: Array("key-\(key)".utf8), value: value),
                    .init(key: Array("other-\(round % 5)".utf8), value: [1], timestampDelta: 1),
                ])))
            }
        }
        try log.append(ByteBuffer(bytes: try RecordBatchEncoder().encode([.init(key: [9], value: [9])])))
        try log.roll()
        var rounds = 0
        while try manager.cleanFilthiestLog(with: LogCleaner()) != nil, rounds < 20 { rounds += 1 }
        #expect(rounds >= 1)
        try manager.close()
        let report = try Verifier(deep: true).verify([directory.path])
        #expect(report.isClean, "\(report.text)")
    }
}
