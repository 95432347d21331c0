import KafkaProtocol
import NIOCore

/// One protocol a member supports (e.g. an assignor name) with its opaque metadata. A value type.
struct MemberProtocol: Sendable, Equatable {
    var name: String
    var metadata: ByteBuffer
}

/// A member of a classic group, owned by its `ClassicGroup` actor (not shared across threads).
struct GroupMember {
    var memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var rebalanceTimeoutMs: Int32
    var sessionTimeoutMs: Int32
    var protocols: [MemberProtocol]
    var assignment = ByteBuffer()
    /// Whether the member's JoinGroup version has `SkipAssignment` (v9+).
    var supportsSkipAssignment = false
    /// The parked JoinGroup of the member while the group prepares a rebalance.
    var joinWaiter: CheckedContinuation<JoinGroupOutcome, Never>?
    /// The parked SyncGroup of the member while the leader's assignment is awaited.
    var syncWaiter: CheckedContinuation<SyncGroupOutcome, Never>?
    var heartbeatTimer: GroupTimer?
    var heartbeatToken: UInt64 = 0

    func metadata(for protocolName: String?) -> ByteBuffer {
        protocols.first { $0.name == protocolName }?.metadata ?? ByteBuffer()
    }

    func matches(_ other: [MemberProtocol]) -> Bool {
        protocols == other
    }
}

/// What a JoinGroup request asks of a group. A value type.
struct JoinGroupInput: Sendable {
    var memberId: String
    var groupInstanceId: String?
    var clientId: String
    var clientHost: String
    var sessionTimeoutMs: Int32
    var rebalanceTimeoutMs: Int32
    var protocolType: String
    var protocols: [MemberProtocol]
    /// JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED with its id.
    var requireKnownMemberId: Bool
    var supportsSkipAssignment: Bool
}

/// The answer to a JoinGroup. A value type.
struct JoinGroupOutcome: Sendable {
    struct Member: Sendable, Equatable {
        var memberId: String
        var groupInstanceId: String?
        var metadata: ByteBuffer
    }

    var error: KafkaErrorCode = .noError
    var generationId: Int32 = -1
    var protocolType: String?
    var protocolName: String?
    var leaderId = ""
    var memberId = ""
    var skipAssignment = false
    var members: [Member] = []
}

/// The answer to a SyncGroup. A value type.
struct SyncGroupOutcome: Sendable {
    var error: KafkaErrorCode = .noError
    var protocolType: String?
    var protocolName: String?
    var assignment = ByteBuffer()
}
