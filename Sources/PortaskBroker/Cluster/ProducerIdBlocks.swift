import Foundation

/// Producer-id blocks handed out from the cluster metadata (`producer-ids`, JSON `{"nextBlockStart": n}`), as
/// Kafka's controller hands out `ProducerIdsRecord` blocks: each broker takes `blockSize` ids at a time by a
/// compare-and-swap on the key's version, so two brokers never get overlapping blocks, whatever their timing.
/// Thread-safe (stateless over the store).
public struct ProducerIdBlocks: Sendable {
    public static let key = "producer-ids"
    /// Kafka's block size.
    public static let defaultBlockSize: Int64 = 1_000
    static let maxAttempts = 16

    struct Record: Codable {
        var nextBlockStart: Int64
    }

    public let store: any MetadataStore

    public init(store: any MetadataStore) {
        self.store = store
    }

    /// Takes the next block of `size` ids; throws `.metadataUnavailable` when the id space is exhausted or the key
    /// kept changing under it.
    public func allocate(size: Int64 = defaultBlockSize) async throws -> ClosedRange<Int64> {
        guard size >= 1 else { throw BrokerError(.invalidRequest, "a producer-id block must hold at least one id") }
        for _ in 0..<Self.maxAttempts {
            let entry = try await store.get(Self.key)
            let start: Int64
            if let entry {
                guard let record = try? JSONDecoder().decode(Record.self, from: Data(entry.value)), record.nextBlockStart >= 0
                else { throw BrokerError(.metadataUnavailable, "the producer-id block record is malformed") }
                start = record.nextBlockStart
            } else {
                start = 0
            }
            let (end, overflow) = start.addingReportingOverflow(size)
            guard !overflow else { throw BrokerError(.metadataUnavailable, "the producer-id space is exhausted") }
            let value = try ClusterRegistry.encode(Record(nextBlockStart: end))
            let condition = MetadataCondition(key: Self.key, .version(entry?.version ?? 0))
            let result = try await store.commit(if: [condition], then: [.put(key: Self.key, value: value)])
            if result.succeeded { return start...(end - 1) }
        }
        throw BrokerError(.metadataUnavailable, "the producer-id block record kept changing; try again")
    }
}
