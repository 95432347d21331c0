import NIOCore
import NIOPosix

/// A client of etcd v3 (3.4) through its JSON gateway (`/v3/...` on the client port).
///
/// KV reads, writes and transactions with compares on version, create and mod revision; leases (grant,
/// keep-alive, revoke); watches from a revision that survive reconnection (see `watch`). Requests go to one
/// endpoint at a time and fail over to the next when it cannot be reached. Reads are retried on any endpoint;
/// changes only when they were never sent (otherwise `.outcomeUnknown`).
///
/// Thread-safe (`Sendable`); every method may be called concurrently from any task. Keys and values are bytes.
public final class EtcdClient: Sendable {
    let transport: EtcdHTTPTransport

    /// The configuration this client was made with.
    public var configuration: EtcdClientConfiguration { transport.configuration }

    /// Creates a client; no connection is made until the first request. `group` defaults to NIO's singleton.
    public init(configuration: EtcdClientConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        transport = EtcdHTTPTransport(configuration: configuration, group: group)
    }

    // MARK: KV

    /// Reads `[key, rangeEnd)` (the single key when `rangeEnd` is nil) at `revision` (0 = latest), at most
    /// `limit` keys (0 = no limit), sorted by key.
    public func range(_ key: [UInt8], rangeEnd: [UInt8]? = nil, revision: Int64 = 0, limit: Int64 = 0) async throws
        -> EtcdRangeResult
    {
        let request = WireRangeRequest(
            key: WireBytes(key), range_end: rangeEnd.map(WireBytes.init), revision: revision == 0 ? nil : WireInt64(revision),
            limit: limit == 0 ? nil : WireInt64(limit))
        let answer = try await call("/v3/kv/range", request, WireRangeResponse.self, retry: .always)
        return Self.rangeResult(answer)
    }

    /// Reads every key that starts with `prefix`, at `revision` (0 = latest).
    public func range(prefix: [UInt8], revision: Int64 = 0) async throws -> EtcdRangeResult {
        try await range(prefix, rangeEnd: EtcdKeyRange.prefixEnd(of: prefix), revision: revision)
    }

    /// Stores `value` under `key`, bound to `lease` (0 = none); returns the header (its revision is the put's).
    @discardableResult
    public func put(_ key: [UInt8], value: [UInt8], lease: Int64 = 0) async throws -> EtcdResponseHeader {
        let request = WirePutRequest(key: WireBytes(key), value: WireBytes(value), lease: lease == 0 ? nil : WireInt64(lease))
        let answer = try await call("/v3/kv/put", request, WireHeaderOnly.self, retry: .onlyWhenUnsent)
        return answer.header?.header ?? EtcdResponseHeader()
    }

    /// Deletes `[key, rangeEnd)` (the single key when `rangeEnd` is nil); returns how many keys were deleted.
    @discardableResult
    public func delete(_ key: [UInt8], rangeEnd: [UInt8]? = nil) async throws -> Int64 {
        let request = WireDeleteRangeRequest(key: WireBytes(key), range_end: rangeEnd.map(WireBytes.init))
        let answer = try await call("/v3/kv/deleterange", request, WireDeleteRangeResponse.self, retry: .onlyWhenUnsent)
        return answer.deleted?.value ?? 0
    }

    /// Runs `success` when every compare holds, else `failure`, atomically at one revision.
    public func txn(compare: [EtcdCompare], success: [EtcdOperation], failure: [EtcdOperation] = []) async throws
        -> EtcdTxnResult
    {
        let request = WireTxnRequest(compare: compare.map(\.wire), success: success.map(\.wire), failure: failure.map(\.wire))
        let answer = try await call("/v3/kv/txn", request, WireTxnResponse.self, retry: .onlyWhenUnsent)
        let results: [EtcdOperationResult] = (answer.responses ?? []).map { response in
            if let range = response.response_range { return .range(Self.rangeResult(range).kvs) }
            if let deleted = response.response_delete_range { return .delete(deleted: deleted.deleted?.value ?? 0) }
            return .put
        }
        return EtcdTxnResult(header: answer.header?.header ?? EtcdResponseHeader(), succeeded: answer.succeeded ?? false, results: results)
    }

    /// Discards the history before `revision` (watches and reads below it then fail with `.compacted`).
    public func compact(revision: Int64) async throws {
        _ = try await call(
            "/v3/kv/compaction", WireCompactionRequest(revision: WireInt64(revision), physical: true), WireHeaderOnly.self,
            retry: .always)
    }

    // MARK: Leases

    /// Grants a lease of `ttlSeconds` (etcd may raise it to its minimum); keys put with its id vanish when it expires.
    public func grantLease(ttlSeconds: Int64) async throws -> EtcdLease {
        guard ttlSeconds > 0 else { throw EtcdError(.invalidArgument, "lease TTL must be positive") }
        let answer = try await call(
            "/v3/lease/grant", WireLeaseGrantRequest(TTL: WireInt64(ttlSeconds)), WireLeaseGrantResponse.self,
            retry: .onlyWhenUnsent)
        if let error = answer.error, !error.isEmpty { throw EtcdError(.server, error, context: "/v3/lease/grant") }
        guard let id = answer.ID?.value, id != 0 else { throw EtcdError(.malformedResponse, "lease grant without an id") }
        return EtcdLease(id: id, ttlSeconds: answer.TTL?.value ?? ttlSeconds)
    }

    /// Renews the lease once; returns its remaining TTL in seconds. Throws `.leaseNotFound` when it has expired
    /// or was revoked.
    @discardableResult
    public func keepAliveOnce(lease: Int64) async throws -> Int64 {
        let answer = try await call(
            "/v3/lease/keepalive", WireLeaseIDRequest(ID: WireInt64(lease)), WireStreamMessage<WireLeaseKeepAliveResult>.self,
            retry: .always)
        if let error = answer.error {
            throw EtcdError(.server, error.message ?? "keep-alive failed", context: "/v3/lease/keepalive", grpcCode: error.grpc_code)
        }
        let ttl = answer.result?.TTL?.value ?? 0
        guard ttl > 0 else { throw EtcdError(.leaseNotFound, "lease \(lease) has expired", context: "/v3/lease/keepalive") }
        return ttl
    }

    /// Renews the lease every `interval` until the task is cancelled (then returns) or the lease is lost (then
    /// throws `.leaseNotFound`). Transport failures are retried on the next tick until `ttlSeconds` worth of
    /// renewals have failed in a row (then the last error is thrown: the lease must be presumed lost).
    public func keepAlive(lease: Int64, ttlSeconds: Int64, interval: Duration) async throws {
        let deadlineWindow = Duration.seconds(ttlSeconds)
        var lastSuccess = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await keepAliveOnce(lease: lease)
                lastSuccess = .now
            } catch let error as EtcdError where error.code == .leaseNotFound {
                throw error
            } catch is CancellationError {
                return
            } catch {
                if ContinuousClock.now - lastSuccess >= deadlineWindow { throw error }
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }

    /// Revokes the lease; its keys are deleted. Revoking an unknown lease throws `.leaseNotFound`.
    public func revokeLease(_ lease: Int64) async throws {
        _ = try await call("/v3/lease/revoke", WireLeaseIDRequest(ID: WireInt64(lease)), WireHeaderOnly.self, retry: .always)
    }

    // MARK: Plumbing

    func call<Request: Encodable, Answer: Decodable>(
        _ path: String, _ request: Request, _ answer: Answer.Type, retry: EtcdHTTPTransport.Retry
    ) async throws -> Answer {
        let body = try EtcdJSON.encode(request)
        let bytes = try await transport.post(path: path, body: body, retry: retry)
        return try EtcdJSON.decode(answer, from: bytes)
    }

    static func rangeResult(_ answer: WireRangeResponse) -> EtcdRangeResult {
        EtcdRangeResult(
            header: answer.header?.header ?? EtcdResponseHeader(), kvs: (answer.kvs ?? []).map(\.keyValue),
            count: answer.count?.value ?? 0, more: answer.more ?? false)
    }
}
