import Foundation
import LogEngine
import NIOConcurrencyHelpers

/// Hands out producer ids (InitProducerId) and never hands out the same id twice, across restarts and crashes.
///
/// Ids are reserved in blocks of `blockSize`, as Kafka's controller hands them to brokers. Before the first id
/// of a block is returned, the end of the block is written durably (temporary file, fsync, rename) to
/// `<data.dir>/producer-id-block`:
/// ```
/// 0            format version
/// 2000         the first id not reserved yet
/// ```
/// At start-up allocation continues at that number, so the unused rest of the last block is skipped, never
/// reused. Thread-safe: allocation is serialised by a lock; the file is written once per block, under it.
public final class ProducerIdManager: Sendable {
    public static let fileName = "producer-id-block"
    public static let defaultBlockSize: Int64 = 1000

    public let path: String
    let blockSize: Int64
    private struct State {
        var next: Int64
        var blockEnd: Int64
    }
    private let state: NIOLockedValueBox<State>
    /// Cluster mode: where blocks come from instead of the file (the cluster's producer-id blocks, unique across
    /// brokers); it may block its thread.
    let clusterBlocks = NIOLockedValueBox<(@Sendable () throws -> ClosedRange<Int64>)?>(nil)

    /// Reads the reservation file of `dataDirectory` (none yet means ids start at 0).
    /// - Throws: `BrokerError(.io)` when the file exists but is malformed or unreadable.
    public init(dataDirectory: String, blockSize: Int64 = ProducerIdManager.defaultBlockSize) throws {
        precondition(blockSize > 0, "block size must be positive")
        path = dataDirectory + "/" + Self.fileName
        self.blockSize = blockSize
        var reserved: Int64 = 0
        let text: String?
        do {
            text = try DurableTextFile.read(path)
        } catch {
            throw BrokerError(.io, "cannot read the producer id block: \(error)", context: path)
        }
        if let text {
            let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            guard lines.count >= 2, lines[0] == "0", let limit = Int64(lines[1]), limit >= 0 else {
                throw BrokerError(.io, "malformed producer id block file", context: path)
            }
            reserved = limit
        }
        state = NIOLockedValueBox(State(next: reserved, blockEnd: reserved))
    }

    /// Ids below this have been handed out (now or before a restart) or skipped.
    public var nextProducerId: Int64 { state.withLockedValue { $0.next } }

    /// A producer id never returned before. Writes the next block reservation first when the block is used up.
    /// - Throws: `BrokerError(.io)` when the reservation cannot be made durable (no id is returned then).
    public func allocate() throws -> Int64 {
        if let blocks = clusterBlocks.withLockedValue({ $0 }) { return try allocateFromCluster(blocks) }
        return try state.withLockedValue { state in
            if state.next >= state.blockEnd {
                guard state.next <= Int64.max - blockSize else {
                    throw BrokerError(.internalError, "producer ids exhausted", context: path)
                }
                let end = state.next + blockSize
                do {
                    try DurableTextFile.write("0\n\(end)\n", to: path)
                } catch {
                    throw BrokerError(.io, "cannot reserve producer ids: \(error)", context: path)
                }
                state.blockEnd = end
            }
            let id = state.next
            state.next += 1
            return id
        }
    }

    /// Whether `producerId` was handed out by this data directory's broker (it lies below the next id).
    public func wasAllocated(_ producerId: Int64) -> Bool {
        // In a cluster another broker may have handed it out: any id is one of the cluster's blocks.
        if clusterBlocks.withLockedValue({ $0 }) != nil { return producerId >= 0 }
        return producerId >= 0 && producerId < nextProducerId
    }

    /// An id from the current cluster block, taking a new block from the cluster when it is used up.
    private func allocateFromCluster(_ blocks: @Sendable () throws -> ClosedRange<Int64>) throws -> Int64 {
        if let id = state.withLockedValue({ state -> Int64? in
            guard state.next < state.blockEnd else { return nil }
            defer { state.next += 1 }
            return state.next
        }) { return id }
        let block = try blocks()
        return state.withLockedValue { state in
            state.next = block.lowerBound + 1
            state.blockEnd = block.upperBound &+ 1
            return block.lowerBound
        }
    }
}
