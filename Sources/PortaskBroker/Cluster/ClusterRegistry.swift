import Foundation

/// Cluster membership and controller election on a `MetadataStore`.
///
/// Keys (relative to the store's root): `cluster/id` (the cluster id, written once), `brokers/<node id>` (a
/// `BrokerRegistration` as JSON, bound to the broker's session), `controller` (the controller's node id and
/// broker epoch as JSON, bound to its session). Every write is a transaction with conditions; a session only
/// tells that its owner has gone silent. A deposed controller cannot write: its writes carry `fence(for:)`, which
/// no longer holds once its `controller` key is gone or recreated. Thread-safe (stateless over the store).
public struct ClusterRegistry: Sendable {
    public static let clusterIdKey = "cluster/id"
    public static let brokersPrefix = "brokers/"
    public static let controllerKey = "controller"

    public let store: any MetadataStore

    public init(store: any MetadataStore) {
        self.store = store
    }

    static func brokerKey(_ nodeId: Int32) -> String { brokersPrefix + String(nodeId) }

    /// Records `clusterId` when the store has none; throws `.configuration` when it holds another (this data
    /// directory's `meta.properties` belongs to a different cluster).
    public func ensureClusterId(_ clusterId: String) async throws {
        let value = Array(clusterId.utf8)
        let result = try await store.commit(
            if: [.absent(Self.clusterIdKey)], then: [.put(key: Self.clusterIdKey, value: value)])
        if result.succeeded { return }
        guard let stored = try await store.get(Self.clusterIdKey) else {
            throw BrokerError(.metadataUnavailable, "the cluster id vanished while being checked")
        }
        guard stored.value == value else {
            let other = String(decoding: stored.value, as: UTF8.self)
            throw BrokerError(
                .configuration,
                "The cluster id \(clusterId) in meta.properties does not match the cluster id \(other) in the metadata store")
        }
    }

    /// Registers the broker under its session; returns its broker epoch. A node id registered under another live
    /// session is refused (`.configuration`: a duplicate `node.id`). Registering again under the same session
    /// (after an unknown outcome) returns the same epoch.
    public func register(_ registration: BrokerRegistration, session: Int64) async throws -> Int64 {
        let key = Self.brokerKey(registration.nodeId)
        let value = try Self.encode(registration)
        let result = try await store.commit(if: [.absent(key)], then: [.put(key: key, value: value, session: session)])
        if result.succeeded { return result.revision }
        guard let existing = try await store.get(key) else {
            throw BrokerError(.metadataUnavailable, "the registration of node \(registration.nodeId) vanished; retry")
        }
        guard existing.session == session else {
            throw BrokerError(
                .configuration, "node.id \(registration.nodeId) is already registered by a live broker",
                context: "broker epoch \(existing.createRevision)")
        }
        return existing.createRevision
    }

    /// Every registered (live) broker, by node id, with the revision read at.
    public func liveBrokers() async throws -> (brokers: [RegisteredBroker], revision: Int64) {
        let snapshot = try await store.read(prefix: Self.brokersPrefix)
        let brokers = snapshot.entries.compactMap(Self.registeredBroker).sorted { $0.registration.nodeId < $1.registration.nodeId }
        return (brokers, snapshot.revision)
    }

    static func registeredBroker(_ entry: MetadataEntry) -> RegisteredBroker? {
        guard let registration = try? JSONDecoder().decode(BrokerRegistration.self, from: Data(entry.value)),
            entry.key == brokerKey(registration.nodeId)
        else { return nil }
        return RegisteredBroker(registration: registration, brokerEpoch: entry.createRevision, session: entry.session)
    }

    // MARK: Controller

    struct ControllerRecord: Codable {
        var nodeId: Int32
        var brokerEpoch: Int64
    }

    /// Tries to become the controller: succeeds only when there is none and the broker's registration is still
    /// the incarnation `brokerEpoch` names. Returns the controller after the attempt (this broker or another),
    /// nil when there is none (the holder vanished meanwhile: try again).
    public func campaign(nodeId: Int32, brokerEpoch: Int64, session: Int64) async throws -> ControllerLeadership? {
        let value = try Self.encode(ControllerRecord(nodeId: nodeId, brokerEpoch: brokerEpoch))
        let result = try await store.commit(
            if: [.absent(Self.controllerKey), MetadataCondition(key: Self.brokerKey(nodeId), .createRevision(brokerEpoch))],
            then: [.put(key: Self.controllerKey, value: value, session: session)])
        if result.succeeded {
            return ControllerLeadership(nodeId: nodeId, controllerEpoch: result.revision, brokerEpoch: brokerEpoch)
        }
        return try await currentController()
    }

    /// The current controller, nil when none.
    public func currentController() async throws -> ControllerLeadership? {
        guard let entry = try await store.get(Self.controllerKey) else { return nil }
        return Self.leadership(entry)
    }

    static func leadership(_ entry: MetadataEntry) -> ControllerLeadership? {
        guard let record = try? JSONDecoder().decode(ControllerRecord.self, from: Data(entry.value)) else { return nil }
        return ControllerLeadership(nodeId: record.nodeId, controllerEpoch: entry.createRevision, brokerEpoch: record.brokerEpoch)
    }

    /// The conditions a controller adds to every write it makes: they hold only while it still leads.
    public static func fence(for leadership: ControllerLeadership) -> [MetadataCondition] {
        [MetadataCondition(key: controllerKey, .createRevision(leadership.controllerEpoch))]
    }

    /// Gives up the leadership (deletes the `controller` key if it is still this leadership's).
    public func resign(_ leadership: ControllerLeadership) async throws {
        _ = try await store.commit(if: Self.fence(for: leadership), then: [.delete(key: Self.controllerKey)])
    }

    static func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return [UInt8](try encoder.encode(value))
    }
}
