import KafkaProtocol
import NIOConcurrencyHelpers

/// Share sessions (KIP-932's ShareFetch sessions, Kafka's `ShareSessionCache`): per (group, member), the
/// partitions the member fetches and the epoch its next request must carry.
///
/// Epochs: a ShareFetch with epoch 0 opens a session (replacing the member's previous one) and names its
/// partitions; the next request carries 1, then 2, ... (after Int32.max comes 1), adding partitions and
/// forgetting others; epoch -1 ends the session. An unknown session is SHARE_SESSION_NOT_FOUND, a wrong epoch
/// INVALID_SHARE_SESSION_EPOCH. At most `group.share.max.share.sessions` sessions (a new one past that is
/// SHARE_SESSION_LIMIT_REACHED); sessions end with their final request, their member's session timeout, or the
/// close of the connection that opened them (the member's acquired records are released then, as in Kafka). A
/// final request finding no session is answered normally (its acknowledgements still apply).
///
/// Thread-safety: one lock, held only for the map operations.
final class ShareSessionCache: Sendable {
    struct Key: Hashable, Sendable {
        var groupId: String
        var memberId: String
    }

    /// A partition of a session, by topic id.
    struct Partition: Hashable, Sendable {
        var topicId: KafkaUUID
        var partition: Int32
    }

    /// The most partitions one session holds; a request that would add more is INVALID_REQUEST.
    static let maxPartitionsPerSession = 10_000

    static let initialEpoch: Int32 = 0
    static let finalEpoch: Int32 = -1

    /// The outcome of a ShareFetch's session step.
    enum Step: Equatable, Sendable {
        case success([Partition])
        case failure(KafkaErrorCode)
    }

    private struct Session {
        var nextEpoch: Int32
        var partitions: [Partition]
        /// The connection that opened the session; the session ends when it closes.
        var connectionId: UInt64
    }

    let maxSessions: Int
    private let sessions = NIOLockedValueBox<[Key: Session]>([:])

    init(maxSessions: Int) {
        self.maxSessions = max(1, maxSessions)
    }

    /// How many sessions exist now.
    var count: Int { sessions.withLockedValue { $0.count } }

    static func next(_ epoch: Int32) -> Int32 { epoch == Int32.max ? 1 : epoch + 1 }

    /// A ShareFetch's step: opens (epoch 0) or advances the session with `added` and `forgotten`, and returns its
    /// partitions in session order; epoch -1 checks that the session exists and returns its partitions (the
    /// caller ends it with `remove` after the acknowledgements).
    func fetch(_ key: Key, epoch: Int32, added: [Partition], forgotten: [Partition], connectionId: UInt64 = 0) -> Step {
        sessions.withLockedValue { map in
            if epoch == Self.initialEpoch {
                guard map[key] != nil || map.count < maxSessions else { return .failure(.shareSessionLimitReached) }
                var session = Session(nextEpoch: 1, partitions: [], connectionId: connectionId)
                guard Self.merge(&session, added: added, forgotten: forgotten) else { return .failure(.invalidRequest) }
                map[key] = session
                return .success(session.partitions)
            }
            // A final request may follow the member's leave, which ended nothing but may find no session.
            guard var session = map[key] else { return epoch == Self.finalEpoch ? .success([]) : .failure(.shareSessionNotFound) }
            if epoch == Self.finalEpoch { return .success(session.partitions) }
            guard epoch == session.nextEpoch else { return .failure(.invalidShareSessionEpoch) }
            guard Self.merge(&session, added: added, forgotten: forgotten) else { return .failure(.invalidRequest) }
            session.nextEpoch = Self.next(epoch)
            map[key] = session
            return .success(session.partitions)
        }
    }

    /// A ShareAcknowledge's step: the session must exist and the epoch match (epoch 0 is never valid; -1 is
    /// the final acknowledgement, after which the caller removes the session).
    func acknowledge(_ key: Key, epoch: Int32) -> KafkaErrorCode {
        sessions.withLockedValue { map in
            if epoch == Self.initialEpoch { return .invalidShareSessionEpoch }
            guard var session = map[key] else { return epoch == Self.finalEpoch ? .noError : .shareSessionNotFound }
            if epoch == Self.finalEpoch { return .noError }
            guard epoch == session.nextEpoch else { return .invalidShareSessionEpoch }
            session.nextEpoch = Self.next(epoch)
            map[key] = session
            return .noError
        }
    }

    func remove(_ key: Key) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: key) }
    }

    /// Ends the sessions opened on a connection that closed; returns their keys (their members' records are
    /// released by the caller, as Kafka's share session cache does on a disconnect).
    func removeSessions(ofConnection connectionId: UInt64) -> [Key] {
        sessions.withLockedValue { map in
            let keys = map.filter { $0.value.connectionId == connectionId }.map(\.key)
            for key in keys { map.removeValue(forKey: key) }
            return keys
        }
    }

    /// Applies a request's partitions to the session; false (and the session unchanged) past the bound.
    private static func merge(_ session: inout Session, added: [Partition], forgotten: [Partition]) -> Bool {
        let removed = Set(forgotten)
        var partitions = session.partitions.filter { !removed.contains($0) }
        var present = Set(partitions)
        for partition in added where !removed.contains(partition) && present.insert(partition).inserted {
            guard partitions.count < maxPartitionsPerSession else { return false }
            partitions.append(partition)
        }
        session.partitions = partitions
        return true
    }
}
