import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// HTTP/1.1 POSTs to etcd's JSON gateway, one TCP connection per request, with failover over the endpoints.
///
/// Thread-safe: the only mutable state (the endpoint currently preferred) sits behind a lock. Every answer is
/// bounded (`maxResponseBytes`, `maxWatchMessageBytes`); every unary request by `requestTimeout`.
final class EtcdHTTPTransport: Sendable {
    /// Whether a request may be sent again, to another endpoint, after it might have reached the first one.
    enum Retry: Sendable {
        /// Reads and idempotent changes: retried on any transport failure.
        case always
        /// Changes whose repetition is visible (a transaction, a grant): retried only when never sent.
        case onlyWhenUnsent
    }

    let configuration: EtcdClientConfiguration
    private let group: any EventLoopGroup
    private let preferred = NIOLockedValueBox(0)

    init(configuration: EtcdClientConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// The endpoints in the order to try them: the preferred one first.
    func endpointOrder() -> [EtcdEndpoint] {
        let endpoints = configuration.endpoints
        guard !endpoints.isEmpty else { return [] }
        let start = preferred.withLockedValue { $0 } % endpoints.count
        return Array(endpoints[start...] + endpoints[..<start])
    }

    /// Moves the preference past `endpoint` after it failed.
    func markFailed(_ endpoint: EtcdEndpoint) {
        let endpoints = configuration.endpoints
        guard let index = endpoints.firstIndex(of: endpoint) else { return }
        preferred.withLockedValue { current in
            if current % endpoints.count == index { current = (index + 1) % endpoints.count }
        }
    }

    /// POSTs `body` to `path` and returns the answer body of a 200; other statuses become `EtcdError`s.
    func post(path: String, body: [UInt8], retry: Retry) async throws -> [UInt8] {
        let order = endpointOrder()
        guard !order.isEmpty else { throw EtcdError(.invalidArgument, "no etcd endpoint configured", context: path) }
        var lastError = EtcdError(.unavailable, "no endpoint answered", context: path)
        for endpoint in order {
            try Task.checkCancellation()
            let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
            do {
                channel = try await connect(to: endpoint)
            } catch {
                markFailed(endpoint)
                lastError = EtcdError(.unavailable, "cannot connect: \(error)", context: "\(path) at \(endpoint)")
                continue
            }
            do {
                let (status, answer) = try await exchange(on: channel, endpoint: endpoint, path: path, body: body)
                if status == .ok { return answer }
                let failure = Self.error(status: status, body: answer, context: "\(path) at \(endpoint)")
                // A member without a leader, or shutting down, answers 503: another member may serve.
                if status == .serviceUnavailable, retry == .always {
                    markFailed(endpoint)
                    lastError = failure
                    continue
                }
                throw failure
            } catch let error as EtcdError where error.code == .server || error.code == .compacted
                || error.code == .malformedResponse || error.code == .leaseNotFound
            {
                throw error
            } catch {
                markFailed(endpoint)
                if error is CancellationError { throw error }
                let described = (error as? EtcdError) ?? EtcdError(.unavailable, "\(error)")
                guard retry == .always else {
                    throw EtcdError(
                        .outcomeUnknown, "connection failed after the request was sent: \(described.message)",
                        context: "\(path) at \(endpoint)")
                }
                lastError = EtcdError(described.code, described.message, context: "\(path) at \(endpoint)")
            }
        }
        throw lastError
    }

    func connect(to endpoint: EtcdEndpoint) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.nanoseconds)))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .connect(host: endpoint.host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Writes the whole request (head, body and end) in one write and one flush.
    ///
    /// One write matters: the server answers and closes the connection as soon as the body is complete, so a
    /// request written part by part could find the channel closed before its `end` part, with the answer already
    /// waiting unread.
    static func writeRequest(
        _ outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, endpoint: EtcdEndpoint, path: String,
        body: [UInt8]
    ) async throws {
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
        head.headers.add(name: "Host", value: "\(endpoint.host):\(endpoint.port)")
        head.headers.add(name: "Content-Type", value: "application/json")
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil)])
    }

    private func exchange(
        on channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>, endpoint: EtcdEndpoint,
        path: String, body: [UInt8]
    ) async throws -> (HTTPResponseStatus, [UInt8]) {
        let limit = configuration.maxResponseBytes
        let timedOut = NIOLockedValueBox(false)
        let raw = channel.channel
        let timer = raw.eventLoop.scheduleTask(in: .nanoseconds(Int64(configuration.requestTimeout.nanoseconds))) {
            timedOut.withLockedValue { $0 = true }
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler {
                try await channel.executeThenClose { inbound, outbound in
                    // A failed write does not end the exchange: an answer that arrived before the channel closed
                    // is still read, and decides the outcome.
                    var writeFailure: (any Error)?
                    do {
                        try await Self.writeRequest(outbound, endpoint: endpoint, path: path, body: body)
                    } catch {
                        writeFailure = error
                    }
                    var status = HTTPResponseStatus.ok
                    var collected: [UInt8] = []
                    for try await part in inbound {
                        switch part {
                        case .head(let head):
                            status = head.status
                        case .body(let buffer):
                            guard collected.count <= limit &- buffer.readableBytes else {
                                throw EtcdError(.malformedResponse, "answer larger than \(limit) bytes")
                            }
                            collected.append(contentsOf: buffer.readableBytesView)
                        case .end:
                            return (status, collected)
                        }
                    }
                    if let writeFailure { throw writeFailure }
                    throw EtcdError(.unavailable, "connection closed before the answer ended")
                }
            } onCancel: {
                raw.close(promise: nil)
            }
        } catch {
            if timedOut.withLockedValue({ $0 }) { throw EtcdError(.timeout, "no answer within the request timeout") }
            throw error
        }
    }

    /// Maps a gateway error answer to an `EtcdError`.
    static func error(status: HTTPResponseStatus, body: [UInt8], context: String) -> EtcdError {
        let decoded = try? EtcdJSON.decode(WireErrorBody.self, from: body)
        let message = decoded?.message ?? decoded?.error ?? "HTTP \(status.code)"
        let grpcCode = decoded?.code
        if message.contains("required revision has been compacted") {
            return EtcdError(.compacted, message, context: context, grpcCode: grpcCode)
        }
        if message.contains("requested lease not found") {
            return EtcdError(.leaseNotFound, message, context: context, grpcCode: grpcCode)
        }
        if status == .serviceUnavailable || grpcCode == 14 {
            return EtcdError(.unavailable, message, context: context, grpcCode: grpcCode)
        }
        return EtcdError(.server, message, context: context, grpcCode: grpcCode)
    }
}

extension Duration {
    /// The duration in nanoseconds, saturated to the Int64 range.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
