import Foundation

// JSON shapes of etcd's gRPC gateway (grpc-gateway with jsonpb): int64/uint64 as decimal strings, bytes as
// base64, enums by name, zero values omitted. Decoding accepts numbers or strings for integers and treats every
// field as optional, as jsonpb omits defaults.

/// An int64 written as a JSON string and read from a string or a number.
struct WireInt64: Codable, Sendable {
    var value: Int64

    init(_ value: Int64) { self.value = value }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            value = number
        } else {
            let text = try container.decode(String.self)
            guard let number = Int64(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an int64: \(text)")
            }
            value = number
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(String(value))
    }
}

/// A uint64 read from a string or a number.
struct WireUInt64: Decodable, Sendable {
    var value: UInt64

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(UInt64.self) {
            value = number
        } else {
            let text = try container.decode(String.self)
            guard let number = UInt64(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a uint64: \(text)")
            }
            value = number
        }
    }
}

/// Bytes as base64 text.
struct WireBytes: Codable, Sendable {
    var bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not base64")
        }
        bytes = [UInt8](data)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Data(bytes).base64EncodedString())
    }
}

struct WireHeader: Decodable, Sendable {
    var cluster_id: WireUInt64?
    var member_id: WireUInt64?
    var revision: WireInt64?
    var raft_term: WireUInt64?

    var header: EtcdResponseHeader {
        EtcdResponseHeader(
            clusterID: cluster_id?.value ?? 0, memberID: member_id?.value ?? 0, revision: revision?.value ?? 0,
            raftTerm: raft_term?.value ?? 0)
    }
}

struct WireKeyValue: Decodable, Sendable {
    var key: WireBytes?
    var value: WireBytes?
    var create_revision: WireInt64?
    var mod_revision: WireInt64?
    var version: WireInt64?
    var lease: WireInt64?

    var keyValue: EtcdKeyValue {
        EtcdKeyValue(
            key: key?.bytes ?? [], value: value?.bytes ?? [], createRevision: create_revision?.value ?? 0,
            modRevision: mod_revision?.value ?? 0, version: version?.value ?? 0, lease: lease?.value ?? 0)
    }
}

struct WireRangeRequest: Encodable, Sendable {
    var key: WireBytes
    var range_end: WireBytes?
    var revision: WireInt64?
    var limit: WireInt64?
}

struct WireRangeResponse: Decodable, Sendable {
    var header: WireHeader?
    var kvs: [WireKeyValue]?
    var count: WireInt64?
    var more: Bool?
}

struct WirePutRequest: Encodable, Sendable {
    var key: WireBytes
    var value: WireBytes
    var lease: WireInt64?
}

struct WireDeleteRangeRequest: Encodable, Sendable {
    var key: WireBytes
    var range_end: WireBytes?
}

struct WireDeleteRangeResponse: Decodable, Sendable {
    var header: WireHeader?
    var deleted: WireInt64?
}

struct WireHeaderOnly: Decodable, Sendable {
    var header: WireHeader?
}

struct WireCompare: Encodable, Sendable {
    var key: WireBytes
    var target: String
    var result: String
    var version: WireInt64?
    var create_revision: WireInt64?
    var mod_revision: WireInt64?
    var value: WireBytes?
    var lease: WireInt64?
}

struct WireRequestOp: Encodable, Sendable {
    var request_range: WireRangeRequest?
    var request_put: WirePutRequest?
    var request_delete_range: WireDeleteRangeRequest?
}

struct WireTxnRequest: Encodable, Sendable {
    var compare: [WireCompare]
    var success: [WireRequestOp]
    var failure: [WireRequestOp]
}

struct WireResponseOp: Decodable, Sendable {
    var response_range: WireRangeResponse?
    var response_put: WireHeaderOnly?
    var response_delete_range: WireDeleteRangeResponse?
}

struct WireTxnResponse: Decodable, Sendable {
    var header: WireHeader?
    var succeeded: Bool?
    var responses: [WireResponseOp]?
}

struct WireCompactionRequest: Encodable, Sendable {
    var revision: WireInt64
    var physical: Bool?
}

struct WireLeaseGrantRequest: Encodable, Sendable {
    var TTL: WireInt64
}

struct WireLeaseGrantResponse: Decodable, Sendable {
    var header: WireHeader?
    var ID: WireInt64?
    var TTL: WireInt64?
    var error: String?
}

struct WireLeaseIDRequest: Encodable, Sendable {
    var ID: WireInt64
}

struct WireLeaseKeepAliveResult: Decodable, Sendable {
    var header: WireHeader?
    var ID: WireInt64?
    var TTL: WireInt64?
}

/// A message of a gateway stream: `{"result": ...}` or `{"error": {...}}`.
struct WireStreamMessage<Result: Decodable & Sendable>: Decodable, Sendable {
    var result: Result?
    var error: WireStreamError?
}

struct WireStreamError: Decodable, Sendable {
    var grpc_code: Int?
    var http_code: Int?
    var message: String?
}

/// The error body of a failed unary call.
struct WireErrorBody: Decodable, Sendable {
    var error: String?
    var message: String?
    var code: Int?
}

struct WireWatchCreateRequest: Encodable, Sendable {
    var key: WireBytes
    var range_end: WireBytes?
    var start_revision: WireInt64?
    var progress_notify: Bool?
}

struct WireWatchRequest: Encodable, Sendable {
    var create_request: WireWatchCreateRequest
}

struct WireEvent: Decodable, Sendable {
    var type: String?
    var kv: WireKeyValue?
}

struct WireWatchResponse: Decodable, Sendable {
    var header: WireHeader?
    var watch_id: WireInt64?
    var created: Bool?
    var canceled: Bool?
    var compact_revision: WireInt64?
    var cancel_reason: String?
    var events: [WireEvent]?
}

extension EtcdCompare {
    var wire: WireCompare {
        var compare = WireCompare(key: WireBytes(key), target: "", result: result.rawValue)
        switch target {
        case .version(let version):
            compare.target = "VERSION"
            compare.version = WireInt64(version)
        case .createRevision(let revision):
            compare.target = "CREATE"
            compare.create_revision = WireInt64(revision)
        case .modRevision(let revision):
            compare.target = "MOD"
            compare.mod_revision = WireInt64(revision)
        case .value(let value):
            compare.target = "VALUE"
            compare.value = WireBytes(value)
        case .lease(let lease):
            compare.target = "LEASE"
            compare.lease = WireInt64(lease)
        }
        return compare
    }
}

extension EtcdOperation {
    var wire: WireRequestOp {
        switch self {
        case .range(let key, let rangeEnd):
            return WireRequestOp(request_range: WireRangeRequest(key: WireBytes(key), range_end: rangeEnd.map(WireBytes.init)))
        case .put(let key, let value, let lease):
            return WireRequestOp(
                request_put: WirePutRequest(key: WireBytes(key), value: WireBytes(value), lease: lease == 0 ? nil : WireInt64(lease)))
        case .delete(let key, let rangeEnd):
            return WireRequestOp(
                request_delete_range: WireDeleteRangeRequest(key: WireBytes(key), range_end: rangeEnd.map(WireBytes.init)))
        }
    }
}
