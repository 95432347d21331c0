import Logging
import Testing

@testable import PortaskBroker

struct ClusterMembershipTests {
    private func membership(_ nodeId: Int32, store: InMemoryMetadataStore, sessionTimeoutMs: Int64 = 60_000) -> ClusterMembership {
        ClusterMembership(
            registry: ClusterRegistry(store: store),
            registration: BrokerRegistration(
                nodeId: nodeId, endpoints: [.init(listener: "PLAINTEXT", host: "127.0.0.1", port: 9092, securityProtocol: "PLAINTEXT")]),
            clusterId: "cluster-1",
            config: ClusterMetadataConfig(endpoints: [], sessionTimeoutMs: sessionTimeoutMs, heartbeatIntervalMs: 20),
            logger: Logger(label: "test"))
    }

    private func waitFor(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(60))
        while try await !condition(), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func lostSession_fencesThenRegistersAgainWithANewEpoch() async throws {
        let store = InMemoryMetadataStore()
        let broker = membership(1, store: store)
        let running = Task { try await broker.run() }
        try await waitFor { broker.isController }
        let first = try #require(broker.status.brokerEpoch)
        #expect(try await store.get("cluster/id")?.value == Array("cluster-1".utf8))

        let session = try #require(try await store.get("brokers/1")).session
        try store.expireSession(session)
        try await waitFor { broker.status.incarnations == 2 && broker.isController }
        #expect(try #require(broker.status.brokerEpoch) > first)
        #expect(try await store.get("brokers/1")?.createRevision == broker.status.brokerEpoch)

        running.cancel()
        try await running.value
        #expect(try await store.get("brokers/1") == nil)
        #expect(try await store.get("controller") == nil)
    }

    @Test func secondBrokerWithTheSameNodeId_isRefused_andAnotherNodeFollowsTheController() async throws {
        let store = InMemoryMetadataStore()
        let first = membership(1, store: store)
        let running = Task { try await first.run() }
        try await waitFor { first.isController }

        let thrown = await #expect(throws: BrokerError.self) {
            // It waits two session timeouts for a previous session of node 1 to end, then gives up.
            try await self.membership(1, store: store, sessionTimeoutMs: 1_000).run()
        }
        #expect(thrown?.code == .configuration)

        let second = membership(2, store: store)
        let runningSecond = Task { try await second.run() }
        try await waitFor { second.status.controller?.nodeId == 1 }
        #expect(!second.isController)

        // The controller leaves: the other broker takes the seat.
        running.cancel()
        try await running.value
        try await waitFor { second.isController }
        #expect(second.isController)
        runningSecond.cancel()
        try await runningSecond.value
    }
}
