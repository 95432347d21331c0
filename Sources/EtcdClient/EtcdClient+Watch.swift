import NIOCore
import NIOHTTP1

extension EtcdClient {
    /// Watches `[key, rangeEnd)` (the single key when `rangeEnd` is nil) from `startRevision` (0 = changes after
    /// now) and calls `onBatch` for every batch of events, in revision order, each revision once.
    ///
    /// When the stream breaks (member down, connection lost) it is reopened on the next endpoint after
    /// `watchRetryDelay`, resuming after the last revision delivered, for as long as the task runs. Returns when
    /// the task is cancelled. Throws `.compacted` (with `compactRevision`) when the revision to resume from has
    /// been compacted: the caller must read the range again and watch from that read's revision + 1. Errors
    /// thrown by `onBatch` end the watch and are rethrown. Memory: one message (≤ `maxWatchMessageBytes`) at a
    /// time; the stream is read only as fast as `onBatch` returns.
    public func watch(
        _ key: [UInt8], rangeEnd: [UInt8]? = nil, startRevision: Int64,
        onBatch: @Sendable (EtcdWatchBatch) async throws -> Void
    ) async throws {
        var next = startRevision
        while !Task.isCancelled {
            for endpoint in transport.endpointOrder() {
                if Task.isCancelled { return }
                do {
                    try await watchOnce(endpoint: endpoint, key: key, rangeEnd: rangeEnd, next: &next, onBatch: onBatch)
                } catch let error as EtcdError
                    where error.code == .compacted || error.code == .server || error.code == .malformedResponse
                {
                    throw error
                } catch let error as WatchCallbackError {
                    throw error.underlying
                } catch {
                    if Task.isCancelled { return }
                }
                transport.markFailed(endpoint)
                do { try await Task.sleep(for: configuration.watchRetryDelay) } catch { return }
            }
            if transport.endpointOrder().isEmpty { throw EtcdError(.invalidArgument, "no etcd endpoint configured") }
        }
    }

    /// Watches every key starting with `prefix`; see `watch(_:rangeEnd:startRevision:onBatch:)`.
    public func watch(
        prefix: [UInt8], startRevision: Int64, onBatch: @Sendable (EtcdWatchBatch) async throws -> Void
    ) async throws {
        try await watch(prefix, rangeEnd: EtcdKeyRange.prefixEnd(of: prefix), startRevision: startRevision, onBatch: onBatch)
    }

    /// One stream on one endpoint, until it ends or fails. `next` advances past every delivered revision.
    private func watchOnce(
        endpoint: EtcdEndpoint, key: [UInt8], rangeEnd: [UInt8]?, next: inout Int64,
        onBatch: @Sendable (EtcdWatchBatch) async throws -> Void
    ) async throws {
        let request = WireWatchRequest(
            create_request: WireWatchCreateRequest(
                key: WireBytes(key), range_end: rangeEnd.map(WireBytes.init),
                start_revision: next > 0 ? WireInt64(next) : nil, progress_notify: true))
        let body = try EtcdJSON.encode(request)
        let channel = try await transport.connect(to: endpoint)
        let raw = channel.channel
        let limit = configuration.maxWatchMessageBytes
        var resume = next
        defer { next = resume }
        try await withTaskCancellationHandler {
            try await channel.executeThenClose { inbound, outbound in
                try await EtcdHTTPTransport.writeRequest(outbound, endpoint: endpoint, path: "/v3/watch", body: body)
                var status = HTTPResponseStatus.ok
                var pending: [UInt8] = []
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        status = head.status
                    case .body(let buffer):
                        if status != .ok {
                            guard pending.count <= limit &- buffer.readableBytes else { break }
                            pending.append(contentsOf: buffer.readableBytesView)
                            continue
                        }
                        for byte in buffer.readableBytesView {
                            if byte != UInt8(ascii: "\n") {
                                guard pending.count < limit else {
                                    throw EtcdError(.malformedResponse, "watch message larger than \(limit) bytes")
                                }
                                pending.append(byte)
                                continue
                            }
                            let line = pending
                            pending.removeAll(keepingCapacity: true)
                            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                            try await Self.handleWatchLine(line, resume: &resume, context: "\(endpoint)", onBatch: onBatch)
                        }
                    case .end:
                        if status != .ok {
                            throw EtcdHTTPTransport.error(status: status, body: pending, context: "/v3/watch at \(endpoint)")
                        }
                        return
                    }
                }
            }
        } onCancel: {
            raw.close(promise: nil)
        }
    }

    private static func handleWatchLine(
        _ line: [UInt8], resume: inout Int64, context: String, onBatch: @Sendable (EtcdWatchBatch) async throws -> Void
    ) async throws {
        let message = try EtcdJSON.decode(WireStreamMessage<WireWatchResponse>.self, from: line)
        if let error = message.error {
            let failure = EtcdError(
                .server, error.message ?? "watch failed", context: "/v3/watch at \(context)", grpcCode: error.grpc_code)
            // A member that lost its leader or is stopping ends the stream with Unavailable: try another.
            if error.grpc_code == 14 { throw EtcdError(.unavailable, failure.message, context: failure.context) }
            throw failure
        }
        guard let result = message.result else { return }
        let header = result.header?.header ?? EtcdResponseHeader()
        if result.canceled == true {
            if let compacted = result.compact_revision?.value, compacted > 0 {
                throw EtcdError(
                    .compacted, "revision \(resume) has been compacted (oldest kept: \(compacted))",
                    context: "/v3/watch at \(context)", compactRevision: compacted)
            }
            throw EtcdError(.server, result.cancel_reason ?? "watch cancelled by the server", context: "/v3/watch at \(context)")
        }
        if resume <= 0, header.revision > 0 {
            // Watching "from now": later reconnections resume right after the revision the stream started at.
            resume = header.revision &+ 1
        }
        var events: [EtcdWatchEvent] = []
        for event in result.events ?? [] {
            guard let kv = event.kv?.keyValue, kv.modRevision >= resume else { continue }
            events.append(EtcdWatchEvent(kind: event.type == "DELETE" ? .delete : .put, kv: kv))
        }
        guard let last = events.last else { return }
        do {
            try await onBatch(EtcdWatchBatch(header: header, events: events))
        } catch {
            throw WatchCallbackError(underlying: error)
        }
        resume = max(resume, last.kv.modRevision &+ 1)
    }
}

/// Carries an error thrown by a watch callback out of the stream unchanged.
struct WatchCallbackError: Error {
    var underlying: any Error
}
