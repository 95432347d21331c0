import Testing

@testable import PortaskBroker

struct ClusterRegistryTests {
    private func registration(_ nodeId: Int32) -> BrokerRegistration {
        BrokerRegistration(
            nodeId: nodeId,
            endpoints: [.init(listener: "PLAINTEXT", host: "127.0.0.1", port: 9092 + nodeId, securityProtocol: "PLAINTEXT")])
    }

    @Test func clusterId_isWrittenOnceAndAMismatchIsRefused() async throws {
        let registry = ClusterRegistry(store: InMemoryMetadataStore())
        try await registry.ensureClusterId("abc")
        try await registry.ensureClusterId("abc")
        let thrown = await #expect(throws: BrokerError.self) {
            try await registry.ensureClusterId("other")
        }
        #expect(thrown?.code == .configuration)
    }

    @Test func duplicateNodeId_isRefusedWhileTheFirstSessionLives() async throws {
        let store = InMemoryMetadataStore()
        let registry = ClusterRegistry(store: store)
        let first = try await store.openSession(ttlSeconds: 600)
        let second = try await store.openSession(ttlSeconds: 600)
        let epoch = try await registry.register(registration(1), session: first.id)
        #expect(try await registry.register(registration(1), session: first.id) == epoch)
        let thrown2 = await #expect(throws: BrokerError.self) {
            _ = try await registry.register(registration(1), session: second.id)
        }
        #expect(thrown2?.code == .configuration)

        // Once the first session has expired, the node id is free and the new incarnation has a larger epoch.
        try store.expireSession(first.id)
        let reborn = try await registry.register(registration(1), session: second.id)
        #expect(reborn > epoch)
        let live = try await registry.liveBrokers()
        #expect(live.brokers.map(\.registration.nodeId) == [1])
        #expect(live.brokers.first?.brokerEpoch == reborn)
        #expect(live.brokers.first?.registration == registration(1))
    }

    @Test func concurrentRegistrationsOfOneNodeId_exactlyOneWins() async throws {
        let store = InMemoryMetadataStore()
        let registry = ClusterRegistry(store: store)
        var sessions: [Int64] = []
        for _ in 0..<8 { sessions.append(try await store.openSession(ttlSeconds: 600).id) }
        let winners = await withTaskGroup(of: Bool.self) { group in
            for session in sessions {
                group.addTask { (try? await registry.register(self.registration(7), session: session)) != nil }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(winners == 1)
    }

    @Test func election_racingBrokers_electExactlyOneAndAllAgree() async throws {
        let store = InMemoryMetadataStore()
        let registry = ClusterRegistry(store: store)
        var brokers: [(Int32, Int64, Int64)] = []
        for nodeId: Int32 in 1...5 {
            let session = try await store.openSession(ttlSeconds: 600)
            brokers.append((nodeId, try await registry.register(registration(nodeId), session: session.id), session.id))
        }
        let results = try await withThrowingTaskGroup(of: ControllerLeadership?.self) { group in
            for (nodeId, epoch, session) in brokers {
                group.addTask { try await registry.campaign(nodeId: nodeId, brokerEpoch: epoch, session: session) }
            }
            return try await group.reduce(into: [ControllerLeadership?]()) { $0.append($1) }
        }
        let elected = Set(results.compactMap { $0 })
        #expect(elected.count == 1)
        #expect(try await registry.currentController() == elected.first)
    }

    @Test func deposedController_cannotWrite_andStaleIncarnationCannotCampaign() async throws {
        let store = InMemoryMetadataStore()
        let registry = ClusterRegistry(store: store)
        let sessionA = try await store.openSession(ttlSeconds: 600)
        let sessionB = try await store.openSession(ttlSeconds: 600)
        let epochA = try await registry.register(registration(1), session: sessionA.id)
        let epochB = try await registry.register(registration(2), session: sessionB.id)
        let leaderA = try #require(try await registry.campaign(nodeId: 1, brokerEpoch: epochA, session: sessionA.id))
        #expect(leaderA.nodeId == 1)
        #expect(try await registry.campaign(nodeId: 2, brokerEpoch: epochB, session: sessionB.id) == leaderA)

        // A fenced write succeeds while A leads.
        #expect(try await store.commit(if: ClusterRegistry.fence(for: leaderA), then: [.put(key: "topics/a", value: [1])]).succeeded)

        // A's session expires: its registration and its controller key vanish; B takes over.
        try store.expireSession(sessionA.id)
        let leaderB = try #require(try await registry.campaign(nodeId: 2, brokerEpoch: epochB, session: sessionB.id))
        #expect(leaderB.nodeId == 2 && leaderB.controllerEpoch > leaderA.controllerEpoch)

        // The deposed controller's write is refused; the new controller's goes through.
        let stale = try await store.commit(if: ClusterRegistry.fence(for: leaderA), then: [.put(key: "topics/a", value: [2])])
        #expect(!stale.succeeded)
        #expect(try await store.get("topics/a")?.value == [1])
        #expect(try await store.commit(if: ClusterRegistry.fence(for: leaderB), then: [.put(key: "topics/a", value: [3])]).succeeded)

        // A re-registers (new epoch); campaigning with its old epoch fails even when the seat is free.
        let sessionA2 = try await store.openSession(ttlSeconds: 600)
        let epochA2 = try await registry.register(registration(1), session: sessionA2.id)
        #expect(epochA2 > epochA)
        try await registry.resign(leaderB)
        #expect(try await registry.currentController() == nil)
        #expect(try await registry.campaign(nodeId: 1, brokerEpoch: epochA, session: sessionA2.id) == nil)
        let leaderA2 = try #require(try await registry.campaign(nodeId: 1, brokerEpoch: epochA2, session: sessionA2.id))
        #expect(leaderA2.controllerEpoch > leaderB.controllerEpoch)

        // Resigning a leadership that is no longer current changes nothing.
        try await registry.resign(leaderB)
        #expect(try await registry.currentController() == leaderA2)
    }

    @Test func config_parsesTheEtcdPropertiesAndStaysOffWithoutEndpoints() throws {
        #expect(try ClusterMetadataConfig(config: BrokerConfig(properties: [:])) == nil)
        let config = try #require(
            try ClusterMetadataConfig(
                config: BrokerConfig(properties: [
                    "metadata.etcd.endpoints": "http://127.0.0.1:2379,127.0.0.2:2379", "metadata.etcd.prefix": "/c1",
                    "broker.session.timeout.ms": "4500",
                ])))
        #expect(config.endpoints.count == 2)
        #expect(config.prefix == "/c1/")
        #expect(config.sessionTTLSeconds == 5)
        #expect(config.heartbeatIntervalMs == 2_000)
        #expect(throws: BrokerError.self) {
            try ClusterMetadataConfig(config: BrokerConfig(properties: ["metadata.etcd.endpoints": "nohost"]))
        }
        #expect(throws: BrokerError.self) {
            try ClusterMetadataConfig(
                config: BrokerConfig(properties: [
                    "metadata.etcd.endpoints": "h:1", "broker.heartbeat.interval.ms": "9000",
                ]))
        }
    }
}
