import NIOCore

/// A group's membership as stored in its group metadata record. A value type; thread-safe.
struct StoredGroup: Sendable, Equatable {
    struct Member: Sendable, Equatable {
        var memberId: String
        var groupInstanceId: String?
        var clientId: String
        var clientHost: String
        var rebalanceTimeoutMs: Int32
        var sessionTimeoutMs: Int32
        var subscription: ByteBuffer
        var assignment: ByteBuffer
    }

    var protocolType: String
    var generation: Int32
    var protocolName: String?
    var leader: String?
    var stateTimestamp: Int64 = -1
    var members: [Member] = []
}
