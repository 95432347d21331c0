import Foundation
import KafkaProtocol
import LogEngine
import Logging
import NIOCore
import Testing
@testable import PortaskBroker

/// A TopicManager over a fresh temporary data directory, removed when the value is deinitialised.
final class TemporaryTopics: @unchecked Sendable {
    let manager: TopicManager

    init(_ properties: [String: String] = [:]) throws {
        let config = try TopicTests.temporaryConfig(properties)
        manager = try TopicManager(config: config, logger: Logger(label: "test"))
    }

    deinit {
        try? manager.close()
        try? FileManager.default.removeItem(atPath: manager.config.dataDirectory)
    }

    /// Appends `count` one-record batches to a partition.
    func produce(_ topic: String, _ partition: Int32 = 0, count: Int, valueSize: Int = 10) throws {
        let log = try #require(manager.partition(topic, partition))
        for index in 0..<count {
            let batch = RecordBatchEncoder(baseTimestamp: 1_700_000_000_000).build(count: 1) { _ in
                Array(repeating: UInt8(truncatingIfNeeded: index), count: valueSize)
            }
            try log.append(ByteBuffer(bytes: batch))
        }
    }
}

/// Encodes `response` in every version of `versions`, as the server would (Kafka's rule on fields a version
/// lacks is enforced by the codec), and decodes it back.
func expectEncodes<Response: KafkaResponseMessage>(_ response: Response, versions: ClosedRange<Int16>) throws {
    for version in versions {
        let parts = try KafkaResponseFrame.encode(response, version: version, correlationId: 1)
        #expect(!parts.isEmpty, "version \(version)")
    }
}
