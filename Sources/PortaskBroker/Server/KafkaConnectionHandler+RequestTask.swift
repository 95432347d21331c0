import KafkaProtocol
import NIOCore

/// The task of one request: its ordered phase after the previous request's, then its completion. Runs on the
/// connection's event loop (the handler's task executor); called only by `KafkaConnectionHandler`.
extension KafkaConnectionHandler {
    /// Starts the task that answers a request, on the connection's event loop.
    static func start(
        _ handler: ApiHandler, _ request: KafkaRequest, _ context: RequestContext,
        after previous: EventLoopFuture<Void>?, ordered: EventLoopPromise<Void>,
        answer: EventLoopPromise<EncodedResponse?>, on executor: EventLoopTaskExecutor
    ) -> Task<Void, Never> {
        Task(executorPreference: executor) {
            do {
                answer.succeed(try await run(handler, request, context, after: previous, ordered: ordered))
            } catch {
                answer.fail(error)
            }
        }
    }

    /// Runs a request: its ordered phase once the previous request's has finished, then its completion, which
    /// may overlap later requests.
    static func run(
        _ handler: ApiHandler, _ request: KafkaRequest, _ context: RequestContext,
        after previous: EventLoopFuture<Void>?, ordered: EventLoopPromise<Void>
    ) async throws -> EncodedResponse? {
        _ = try? await previous?.get()
        // A request read before its connection was muted by a quota throttle waits the mute out, as Kafka reads
        // a throttled connection's next request only afterwards.
        await context.throttle?.waitUntilUnmuted()
        let completion: ApiHandler.Completion
        do {
            completion = try await handler.respond(request, context)
        } catch {
            ordered.succeed()
            throw error
        }
        ordered.succeed()
        return try await completion()
    }
}
