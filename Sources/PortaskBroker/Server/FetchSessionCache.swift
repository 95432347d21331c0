import KafkaProtocol
import NIOConcurrencyHelpers

/// Incremental fetch sessions (KIP-227), as Kafka's fetch session cache keeps them.
///
/// A session remembers, per partition, the fetch offset and byte limit the client last sent and the high
/// watermark and log start offset last returned. Incremental requests (epoch ≥ 1) carry only changed partitions
/// and forgotten ones; their responses carry only partitions with records, errors or changed offsets. At most
/// `capacity` sessions are kept; when full, the least recently used one is evicted. Memory is bounded too: a
/// session holds at most `maximumSessionPartitions` partitions (a larger full request is served sessionless; an
/// incremental one that would grow past it gets FETCH_SESSION_ID_NOT_FOUND, so the client starts over), and all
/// sessions together at most `maximumTotalPartitions` (least recently used sessions are evicted to make room).
/// Thread-safe.
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
        var totalPartitions = 0
    }

    public static let finalEpoch: Int32 = -1
    public static let initialEpoch: Int32 = 0

    private let capacity: Int
    public let maximumSessionPartitions: Int
    public let maximumTotalPartitions: Int
    private let state = NIOLockedValueBox(State())

    /// `capacity` is Kafka's `max.incremental.fetch.session.cache.slots` (default 1000).
    public init(capacity: Int = 1000, maximumSessionPartitions: Int = 50_000, maximumTotalPartitions: Int = 500_000) {
        self.capacity = capacity
        self.maximumSessionPartitions = maximumSessionPartitions
        self.maximumTotalPartitions = maximumTotalPartitions
    }

    /// Partitions held by every session together.
    public var totalPartitions: Int { state.withLockedValue { $0.totalPartitions } }

    public var count: Int { state.withLockedValue { $0.sessions.count } }

    /// Resolves a request's session fields against the cache, applying its partition changes.
    public func context(
        sessionId: Int32, epoch: Int32, requested: [PartitionState], forgotten: [Key]
    ) -> Context {
        state.withLockedValue { state in
            state.clock += 1
            if epoch == Self.finalEpoch || epoch == Self.initialEpoch {
                if sessionId != 0 { Self.remove(sessionId, from: &state) }
                guard epoch == Self.initialEpoch, capacity > 0 else { return .sessionless }
                var session = Session(nextEpoch: 1, order: [], partitions: [:], lastUsed: state.clock)
                for partition in requested where session.partitions[partition.key] == nil {
                    guard session.order.count < maximumSessionPartitions else { return .sessionless }
                    session.order.append(partition.key)
                    session.partitions[partition.key] = partition
                }
                while state.sessions.count >= capacity
                    || state.totalPartitions + session.order.count > maximumTotalPartitions,
                    let oldest = state.sessions.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key
                {
                    Self.remove(oldest, from: &state)
                }
                guard state.totalPartitions + session.order.count <= maximumTotalPartitions else { return .sessionless }
                var id: Int32
                repeat { id = Int32.random(in: 1...Int32.max) } while state.sessions[id] != nil
                state.sessions[id] = session
                state.totalPartitions += session.order.count
                return .full(sessionId: id, partitions: session.order.compactMap { session.partitions[$0] })
            }
            guard var session = state.sessions[sessionId] else { return .failure(.fetchSessionIdNotFound) }
            guard session.nextEpoch == epoch else { return .failure(.invalidFetchSessionEpoch) }
            let before = session.order.count
            if !forgotten.isEmpty {
                var removed = Set<Key>()
                for key in forgotten where session.partitions.removeValue(forKey: key) != nil { removed.insert(key) }
                if !removed.isEmpty { session.order.removeAll { removed.contains($0) } }
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
            let grown = session.order.count - before
            guard session.order.count <= maximumSessionPartitions,
                state.totalPartitions + grown <= maximumTotalPartitions
            else {
                Self.remove(sessionId, from: &state)
                return .failure(.fetchSessionIdNotFound)
            }
            session.nextEpoch = epoch == Int32.max ? 1 : epoch + 1
            session.lastUsed = state.clock
            state.sessions[sessionId] = session
            state.totalPartitions += grown
            return .incremental(sessionId: sessionId, partitions: session.order.compactMap { session.partitions[$0] })
        }
    }

    private static func remove(_ sessionId: Int32, from state: inout State) {
        if let session = state.sessions.removeValue(forKey: sessionId) {
            state.totalPartitions -= session.order.count
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
