import KafkaProtocol
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Serves one client connection: decodes request frames, runs their handlers, and writes the responses in
/// request order (pipelining), whatever order the handlers finish in.
///
/// Bounds: a request counts against the connection's limits from the moment it is read until its response has
/// been written to the socket (not merely handed to the channel), so a client that never reads cannot make the
/// broker hold more than `maximumInFlight` responses or `maximumInFlightBytes` of request frames. Reading stops
/// while either limit is reached or the channel is not writable (its outbound buffer is above the high water
/// mark); frames that were already read then wait, undecoded, in a queue that only the reads in progress can
/// fill. When the connection closes, the tasks of its requests are cancelled (parked fetches wake and end).
///
/// File regions (zero-copy fetches) are owned by their `EncodedResponse`: the handler keeps each response until
/// the write of its last part has completed or failed, or drops it unwritten when the connection closes; the
/// owners release the descriptors when let go, so the handler itself never closes one.
///
/// A client throttled by a quota has its connection muted for the throttle time once the response is written:
/// no further request is read or started until then (KIP-219).
///
/// A frame that cannot be decoded, an unknown API or an unserved version closes the connection with a log line
/// (an ApiVersions request of an unknown version is answered in v0 layout, as Kafka does).
/// On a TLS listener the connection's principal is the client certificate's subject mapped by
/// `ssl.principal.mapping.rules` (`User:ANONYMOUS` without a certificate) and file regions are copied into
/// buffers, since TLS cannot send them. On a SASL listener a ``SaslServerSession`` admits only ApiVersions and
/// the SASL exchange until the client has authenticated; its principal is then the authenticated user. A session
/// with a lifetime (`connections.max.reauth.ms`, token expiry) may re-authenticate with a new SaslHandshake; a
/// request after its end closes the connection (KIP-368).
/// Event-loop confined: every method runs on the channel's event loop.
final class KafkaConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = IOData

    let router: RequestRouter
    private let logger: Logger
    private let connectionId: UInt64
    private let maximumInFlight: Int
    private let maximumInFlightBytes: Int
    /// Frame sizes of the requests not answered yet, by sequence.
    private var requestBytes: [UInt64: Int] = [:]
    private var inFlightBytes = 0
    private let metrics: BrokerMetrics?
    private var clientAddress = ""
    private var nextSequence: UInt64 = 0
    private var nextToWrite: UInt64 = 0
    /// Finished responses waiting for earlier ones; `nil` means "no response" (acks=0).
    private var finished: [UInt64: EncodedResponse?] = [:]
    /// The tasks of the requests not finished yet, cancelled when the connection closes.
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    /// Frames read while the connection was at a limit, in arrival order.
    private var waitingFrames = CircularBuffer<ByteBuffer>()
    private var inFlight = 0
    private var readingPaused = false
    private var closing = false
    /// Completes when the ordered phase of the latest request has finished.
    private var orderedTail: EventLoopFuture<Void>?
    private var taskExecutor: EventLoopTaskExecutor?
    /// The listener's security; `nil` on the default plaintext listener.
    private let listener: ListenerRuntime?
    private let listenerName: String
    private var principal = KafkaPrincipal.anonymous
    /// The client software named by the connection's latest ApiVersions request (client telemetry matches on it).
    private var clientSoftware = (name: "", version: "")
    /// The SASL exchange until it completes (SASL listeners only).
    private var sasl: SaslServerSession?
    /// The response after which the connection closes (a failed authentication).
    private var closeAfterSequence: UInt64?
    /// The quota throttle handlers set; taken after each response.
    private let throttle = ConnectionThrottle()
    /// Until when the connection is muted by a quota throttle.
    private var mutedUntil: NIODeadline?

    init(
        router: RequestRouter, logger: Logger, connectionId: UInt64, maximumInFlight: Int, maximumInFlightBytes: Int,
        metrics: BrokerMetrics?, listener: ListenerRuntime? = nil
    ) {
        self.listener = listener
        listenerName = listener?.name ?? "PLAINTEXT"
        if let listener, listener.security.securityProtocol.usesSASL {
            sasl = SaslServerSession(security: listener.security, scramCredentials: listener.scramCredentials)
        }
        self.maximumInFlightBytes = maximumInFlightBytes
        self.router = router
        self.metrics = metrics
        self.logger = logger
        self.connectionId = connectionId
        self.maximumInFlight = max(1, maximumInFlight)
    }

    func channelActive(context: ChannelHandlerContext) {
        clientAddress = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? ""
        metrics?.connectionOpened()
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event, let listener, listener.security.securityProtocol == .ssl {
            do {
                principal = try Self.certificatePrincipal(context: context, listener: listener)
            } catch {
                close(context: context, reason: "\(error)")
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The principal of a TLS client: its certificate's subject (RFC 2253) mapped by the listener's rules.
    private static func certificatePrincipal(context: ChannelHandlerContext, listener: ListenerRuntime) throws -> KafkaPrincipal {
        let handler = try context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
        guard let certificate = handler.peerCertificate else { return .anonymous }
        let subject = try Certificate(derEncoded: try certificate.toDERBytes()).subject.description
        guard let name = listener.principalMapper.name(for: subject) else {
            throw BrokerError(.invalidRequest, "No rules apply to \(subject) (ssl.principal.mapping.rules)")
        }
        return KafkaPrincipal(name: name)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, closeAfterSequence == nil else { return }
        let frame = unwrapInboundIn(data)
        metrics?.bytesIn.increment(by: frame.readableBytes + 4)
        guard waitingFrames.isEmpty, canStart(context: context) else {
            waitingFrames.append(frame)
            pauseReading(context: context)
            return
        }
        process(frame, context: context)
    }

    /// Whether another request may start now.
    private func canStart(context: ChannelHandlerContext) -> Bool {
        inFlight < maximumInFlight && inFlightBytes < maximumInFlightBytes && context.channel.isWritable
            && mutedUntil == nil
    }

    /// Mutes the connection when a handler throttled its client: reading stops until the throttle time is over.
    private func muteIfThrottled(context: ChannelHandlerContext) {
        let milliseconds = throttle.take()
        guard milliseconds > 0, !closing else { return }
        let until = NIODeadline.now() + .milliseconds(Int64(milliseconds))
        if let current = mutedUntil, current >= until { return }
        mutedUntil = until
        pauseReading(context: context)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(deadline: until) {
            let (handler, context) = bound.value
            guard let muted = handler.mutedUntil, muted <= NIODeadline.now() else { return }
            handler.mutedUntil = nil
            handler.resume(context: context)
        }
    }

    private func pauseReading(context: ChannelHandlerContext) {
        guard !readingPaused else { return }
        readingPaused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
    }

    /// Starts the frames that waited, as far as the limits allow, and resumes reading once none wait.
    private func resume(context: ChannelHandlerContext) {
        while !closing, !waitingFrames.isEmpty, canStart(context: context) {
            process(waitingFrames.removeFirst(), context: context)
        }
        guard !closing, readingPaused, waitingFrames.isEmpty, canStart(context: context) else { return }
        readingPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { resume(context: context) }
        context.fireChannelWritabilityChanged()
    }

    private func process(_ frame: ByteBuffer, context: ChannelHandlerContext) {
        guard closeAfterSequence == nil else { return }
        if let sasl {
            let now = NIODeadline.now()
            // A SaslHandshake on an authenticated connection re-authenticates it (KIP-368), even once expired;
            // any other request after the session's end closes the connection, as Kafka does.
            if !sasl.isAuthenticated || sasl.beginReauthentication(frame, now: now) {
                authenticate(frame, session: sasl, context: context)
                return
            }
            if sasl.isExpired(at: now) {
                metrics?.recordRefusal(.sessionExpired)
                close(context: context, reason: "SASL session expired without re-authentication")
                return
            }
        }
        let request: KafkaRequest
        do {
            request = try KafkaRequest.decode(frame: frame)
        } catch let error as KafkaProtocolError {
            if error.code == .budgetExceeded { metrics?.recordRefusal(.requestBudget) }
            rejectUndecodable(context: context, frame: frame, error: error)
            return
        } catch {
            close(context: context, reason: "\(error)")
            return
        }
        let version = request.header.apiVersion
        route(request, bytes: frame.readableBytes, context: context)
    }

    /// Runs the SASL exchange on a frame received before authentication completed.
    private func authenticate(_ frame: ByteBuffer, session: SaslServerSession, context: ChannelHandlerContext) {
        let reauthenticating = session.isReauthenticating
        defer {
            if reauthenticating, session.isAuthenticated { metrics?.recordReauthentication() }
        }
        switch session.receive(frame) {
        case .route(let request):
            route(request, bytes: frame.readableBytes, context: context)
        case .respond(let parts, let thenClose):
            let sequence = begin()
            if thenClose {
                closeAfterSequence = sequence
                metrics?.recordRefusal(.authenticationFailed)
                logger.info(
                    "authentication failed",
                    metadata: ["connection": "\(connectionId)", "client": "\(clientAddress)",
                               "listener": "\(listenerName)", "reason": "\(session.failure ?? "")"])
            }
            if let authenticated = session.principal { principal = authenticated }
            complete(context: context, sequence: sequence, response: EncodedResponse(parts: parts))
        case .close(let reason):
            metrics?.recordRefusal(.authenticationFailed)
            close(context: context, reason: reason)
        }
    }

    private func route(_ request: KafkaRequest, bytes: Int, context: ChannelHandlerContext) {
        let version = request.header.apiVersion
        guard let handler = router.handler(for: request.apiKey), handler.versions.contains(version) else {
            if request.apiKey == .apiVersions {
                answerUnsupportedApiVersions(context: context, correlationId: request.header.correlationId)
            } else {
                close(context: context, reason: "\(request.apiKey.name) v\(version) is not served")
            }
            return
        }
        var requestContext = RequestContext(
            apiKey: request.apiKey, apiVersion: version, correlationId: request.header.correlationId,
            clientId: request.header.clientId, connectionId: connectionId, clientAddress: clientAddress,
            throttle: throttle, listenerName: listenerName, principal: principal)
        requestContext.quotas = router.quotas
        if let versions = request.body as? ApiVersionsRequest, version >= 3 {
            clientSoftware = (String(versions.clientSoftwareName.prefix(256)), String(versions.clientSoftwareVersion.prefix(256)))
        }
        requestContext.clientSoftwareName = clientSoftware.name
        requestContext.clientSoftwareVersion = clientSoftware.version
        let sequence = begin(bytes: bytes)
        let started = NIODeadline.now()
        let promise = context.eventLoop.makePromise(of: EncodedResponse?.self)
        let previous = orderedTail
        let orderedDone = context.eventLoop.makePromise(of: Void.self)
        orderedTail = orderedDone.futureResult
        tasks[sequence] = Self.start(
            handler, request, requestContext, after: previous, ordered: orderedDone, answer: promise,
            on: executor(on: context.eventLoop))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let (handler, context) = bound.value
            handler.tasks.removeValue(forKey: sequence)
            switch result {
            case .success(let response):
                handler.metrics?.recordRequest(request.apiKey, nanoseconds: (NIODeadline.now() - started).nanoseconds)
                handler.complete(context: context, sequence: sequence, response: response)
            case .failure(let error):
                handler.metrics?.recordFailure(request.apiKey)
                handler.close(context: context, reason: "\(request.apiKey.name) v\(version) failed: \(error)")
            }
        }
    }

    /// The connection's task executor: request tasks run on the channel's event loop.
    private func executor(on loop: EventLoop) -> EventLoopTaskExecutor {
        if let taskExecutor { return taskExecutor }
        let created = EventLoopTaskExecutor(loop: loop)
        taskExecutor = created
        return created
    }

    func begin(bytes: Int = 0) -> UInt64 {
        let sequence = nextSequence
        nextSequence &+= 1
        inFlight += 1
        if bytes > 0 {
            requestBytes[sequence] = bytes
            inFlightBytes += bytes
        }
        return sequence
    }

    /// Takes a finished response and writes every response that is next in request order.
    func complete(context: ChannelHandlerContext, sequence: UInt64, response: EncodedResponse?) {
        guard !closing else { return }  // dropped unwritten: its owners release their descriptors
        var response = response
        if listener?.tls != nil, let encoded = response {
            // TLS cannot send file regions: their bytes are copied, and their owners released at once.
            do {
                response = EncodedResponse(
                    parts: try FileRegionCopy.materialize(encoded.parts, allocator: context.channel.allocator))
            } catch {
                close(context: context, reason: "reading fetched data failed: \(error)")
                return
            }
        }
        finished[sequence] = .some(response)
        var wrote = false
        while let next = finished.removeValue(forKey: nextToWrite) {
            let written = nextToWrite
            nextToWrite &+= 1
            guard let response = next, !response.parts.isEmpty else {
                responseWritten(context: context, sequence: written)
                continue
            }
            wrote = true
            for part in response.parts.dropLast() {
                metrics?.bytesOut.increment(by: part.readableBytes)
                context.write(wrapOutboundOut(part), promise: nil)
            }
            let last = response.parts[response.parts.count - 1]
            metrics?.bytesOut.increment(by: last.readableBytes)
            let promise = context.eventLoop.makePromise(of: Void.self)
            context.write(wrapOutboundOut(last), promise: promise)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            promise.futureResult.whenComplete { _ in
                // The last part is written (or the write failed): every part before it is done too, so the
                // response, and with it the owners of its file regions, can go.
                withExtendedLifetime(response) {}
                let (handler, context) = bound.value
                handler.responseWritten(context: context, sequence: written)
            }
        }
        if wrote { context.flush() }
        muteIfThrottled(context: context)
    }

    /// A response has left the broker (or the connection failed): its request stops counting against the limits.
    private func responseWritten(context: ChannelHandlerContext, sequence: UInt64) {
        inFlightBytes -= requestBytes.removeValue(forKey: sequence) ?? 0
        inFlight -= 1
        if sequence == closeAfterSequence {
            close(context: context, reason: "authentication failed")
            return
        }
        resume(context: context)
    }

    func close(context: ChannelHandlerContext, reason: String) {
        guard !closing else { return }
        closing = true
        logger.warning(
            "closing connection",
            metadata: ["connection": "\(connectionId)", "client": "\(clientAddress)", "reason": "\(reason)"])
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        metrics?.connectionClosed()
        finished.removeAll()
        waitingFrames.removeAll()
        for task in tasks.values { task.cancel() }
        tasks.removeAll()
        router.connectionClosed(connectionId)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        close(context: context, reason: "\(error)")
    }
}
