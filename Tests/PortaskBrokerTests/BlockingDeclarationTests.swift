import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
@testable import PortaskBroker

/// Handlers declare whether they may block; declared phases run on the thread pool, never on an event loop.
struct BlockingDeclarationTests {
    @Test func handlersThatTouchFiles_declareThatTheyBlock() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portask-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let broker = try Broker(config: BrokerConfig(properties: ["log.dirs": directory]), logger: Logger(label: "test"))
        let router = broker.makeRouter()
        let fileTouching: [ApiKey] = [
            .metadata, .createTopics, .deleteTopics, .createPartitions, .deleteRecords, .alterConfigs,
            .incrementalAlterConfigs, .alterClientQuotas, .createAcls, .deleteAcls, .alterUserScramCredentials,
        ]
        for apiKey in fileTouching {
            #expect(router.handler(for: apiKey)?.blocking == .always, "\(apiKey.name) must run off the event loop")
        }
        let sometimes: [ApiKey] = [.produce, .listOffsets]
        for apiKey in sometimes { #expect(router.handler(for: apiKey)?.blocking == .sometimes) }
        // Pushed telemetry is decompressed and decoded in proportion to the client's input.
        let decompressing: [ApiKey] = [.pushTelemetry]
        for apiKey in decompressing { #expect(router.handler(for: apiKey)?.blocking == .always) }
        for (apiKey, _) in router.supportedVersions
        where !fileTouching.contains(apiKey) && !sometimes.contains(apiKey) && !decompressing.contains(apiKey) {
            #expect(router.handler(for: apiKey)?.blocking == .never, "\(apiKey.name) declares no blocking work")
        }
    }

    @Test func aDeclaredPhase_runsOffTheEventLoop_andAnUndeclaredOneOnIt() async throws {
        let onLoop = NIOLockedValueBox<[Int16: Bool]>([:])
        let handler = ApiHandler(
            MetadataRequest.self, response: MetadataResponse.self, versions: 0...12,
            blocking: .when { _, version in version >= 5 }
        ) { _, context in
            onLoop.withLockedValue { $0[context.apiVersion] = MultiThreadedEventLoopGroup.currentEventLoop != nil }
            return MetadataResponse()
        }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        for version: Int16 in [4, 5] {
            let request = KafkaRequest(
                header: RequestHeader(apiKey: ApiKey.metadata.rawValue, apiVersion: version, correlationId: 1, clientId: "t"),
                apiKey: .metadata, body: MetadataRequest())
            let context = RequestContext(
                apiKey: .metadata, apiVersion: version, correlationId: 1, clientId: "t", connectionId: 1, clientAddress: "")
            let executor = EventLoopTaskExecutor(loop: loop)
            let task = Task(executorPreference: executor) {
                let completion = try await handler.respond(request, context)
                return try await completion() != nil
            }
            #expect(try await task.value)
        }
        #expect(onLoop.withLockedValue { $0 } == [4: true, 5: false])
    }
}
