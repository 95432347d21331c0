import KafkaProtocol
import NIOConcurrencyHelpers

/// Incremental fetch sessions (KIP-227), as Kafka's fetch session cache keeps them.
///
/// A session remembers, per partition, the fetch offset and byte limit the client last sent and the high
/// watermark and log start offset last returned. Incremental requests (epoch ≥ 1) carry only changed partitions
/// and forgotten ones; their responses carry only partitions with records, errors or changed offsets. At most
/// `capacity` sessions are kept; when full, the least recently used one is evicted. Thread-safe.
public final class FetchSessionCache: Sendable {
    /// A partition as a request names it: by topic id from Fetch v13, by name before.
    public struct Key: Hashable, Sendable {
        public var topicId: KafkaUUID
        public var topic: String
        public var partition: Int32
    }

    public struct PartitionState: Sendable {
        public var key: Key
        public var fetchOffset: Int64
        public var maxBytes: Int32
        public var lastHighWatermark: Int64 = -1
        public var lastLogStartOffset: Int64 = -1
    }

    /// What a request asks of the cache.
    public enum Context: Sendable {
        /// No session: answer every requested partition, session id 0.
        case sessionless
        /// A new session: answer every partition; the response carries the session id.
        case full(sessionId: Int32, partitions: [PartitionState])
        /// An existing session: read every session partition, answer the changed ones.
        case incremental(sessionId: Int32, partitions: [PartitionState])
        /// A session error to answer at the top level (FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH).
        case failure(KafkaErrorCode)
    }

    private struct Session {
        var nextEpoch: Int32
        var order: [Key]
        var partitions: [Key: PartitionState]
        var lastUsed: UInt64
    }

    private struct State {
        var sessions: [Int32: Session] = [:]
        var clock: UInt64 = 0
    }

    public static let finalEpoch: Int32 = -1
    public static let initialEpoch: Int32 = 0

    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    /// `capacity` is Kafka's `max.incremental.fetch.session.cache.slots` (default 1000).
    public init(capacity: Int = 1000) {
        self.capacity = capacity
    }

    public var count: Int { state.withLockedValue { $0.sessions.count } }

    /// Resolves a request's session fields against the cache, applying its partition changes.
    public func context(
        sessionId: Int32, epoch: Int32, requested: [PartitionState], forgotten: [Key]
    ) -> Context {
        state.withLockedValue { state in
            state.clock += 1
            if epoch == Self.finalEpoch || epoch == Self.initialEpoch {
                if sessionId != 0 { state.sessions.removeValue(forKey: sessionId) }
                guard epoch == Self.initialEpoch, capacity > 0 else { return .sessionless }
                if state.sessions.count >= capacity,
                    let oldest = state.sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
                {
                    state.sessions.removeValue(forKey: oldest)
                }
                var id: Int32
                repeat { id = Int32.random(in: 1...Int32.max) } while state.sessions[id] != nil
                var session = Session(nextEpoch: 1, order: [], partitions: [:], lastUsed: state.clock)
                for partition in requested where session.partitions[partition.key] == nil {
                    session.order.append(partition.key)
                    session.partitions[partition.key] = partition
                }
                state.sessions[id] = session
                return .full(sessionId: id, partitions: session.order.compactMap { session.partitions[$0] })
            }
            guard var session = state.sessions[sessionId] else { return .failure(.fetchSessionIdNotFound) }
            guard session.nextEpoch == epoch else { return .failure(.invalidFetchSessionEpoch) }
            for key in forgotten where session.partitions.removeValue(forKey: key) != nil {
                session.order.removeAll { $0 == key }
            }
            for partition in requested {
                if var existing = session.partitions[partition.key] {
                    existing.fetchOffset = partition.fetchOffset
                    existing.maxBytes = partition.maxBytes
                    session.partitions[partition.key] = existing
                } else {
                    session.order.append(partition.key)
                    session.partitions[partition.key] = partition
                }
            }
            session.nextEpoch = epoch == Int32.max ? 1 : epoch + 1
            session.lastUsed = state.clock
            state.sessions[sessionId] = session
            return .incremental(sessionId: sessionId, partitions: session.order.compactMap { session.partitions[$0] })
        }
    }

    /// Records what a response told the client about a partition, so the next incremental response can leave
    /// it out when nothing changed.
    public func recordSent(sessionId: Int32, key: Key, highWatermark: Int64, logStartOffset: Int64) {
        state.withLockedValue { state in
            state.sessions[sessionId]?.partitions[key]?.lastHighWatermark = highWatermark
            state.sessions[sessionId]?.partitions[key]?.lastLogStartOffset = logStartOffset
        }
    }
}
