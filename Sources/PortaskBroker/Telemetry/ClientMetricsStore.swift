import Foundation
import LogEngine
import NIOConcurrencyHelpers

/// The client-metrics subscriptions (Kafka's CLIENT_METRICS config resources), kept durably in
/// `<data dir>/client-metrics.json` (subscription name to its configs) and replaced whole on every change
/// (written, fsynced, renamed). Altering follows Kafka's validation (`ClientMetricsSubscription`); a
/// subscription losing its last config disappears. At most `maximumSubscriptions` are kept.
/// Thread-safe: one lock over the subscriptions; a change is written to disk before it is published.
final class ClientMetricsStore: Sendable {
    static let fileName = "client-metrics.json"
    static let maximumSubscriptions = 1_000

    private let path: String?
    private let state: NIOLockedValueBox<[String: ClientMetricsSubscription]>
    private let writer = NIOLock()
    private let onChange: @Sendable ([String: ClientMetricsSubscription]) -> Void

    /// Loads the subscriptions of `dataDirectory` (none when the file does not exist; `nil` keeps them in memory
    /// only). A stored subscription that no longer validates is skipped.
    init(dataDirectory: String?, onChange: @escaping @Sendable ([String: ClientMetricsSubscription]) -> Void = { _ in }) throws {
        path = dataDirectory.map { ($0 as NSString).appendingPathComponent(Self.fileName) }
        var loaded: [String: ClientMetricsSubscription] = [:]
        if let path, let text = try DurableTextFile.read(path) {
            let stored: [String: [String: String]]
            do {
                stored = try JSONDecoder().decode([String: [String: String]].self, from: Data(text.utf8))
            } catch {
                throw BrokerError(.configuration, "\(path) is not a client metrics file: \(error)")
            }
            for (name, configs) in stored {
                if case .success(let subscription) = ClientMetricsSubscription.validated(name: name, configs: configs) {
                    loaded[name] = subscription
                }
            }
        }
        state = NIOLockedValueBox(loaded)
        self.onChange = onChange
        onChange(loaded)
    }

    /// The subscription names, sorted.
    var names: [String] { state.withLockedValue { $0.keys.sorted() } }

    /// The configs set on a subscription (empty when it does not exist, as Kafka describes it).
    func configs(of name: String) -> [String: String] {
        state.withLockedValue { $0[name]?.configs ?? [:] }
    }

    /// Alters a subscription: `replace` sets the configs whole (AlterConfigs), otherwise each change applies
    /// (IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on the list configs `metrics` and `match`).
    func alter(name: String, changes: [ConfigAlterer.Change], replace: Bool, validateOnly: Bool) -> AdminOutcome {
        writer.withLock {
            var configs = replace ? [:] : self.configs(of: name)
            for change in changes {
                guard replace || ClientMetricsSubscription.keys.contains(change.name) else {
                    return AdminOutcome(.invalidRequest, "Unknown client metrics configuration: \(change.name)")
                }
                switch replace ? ConfigAlterer.Operation.set : ConfigAlterer.Operation(rawValue: change.operation) {
                case .set: configs[change.name] = change.value
                case .delete: configs.removeValue(forKey: change.name)
                case .append, .subtract:
                    guard change.name != ClientMetricsSubscription.intervalKey else {
                        let verb = change.operation == ConfigAlterer.Operation.append.rawValue ? "APPEND" : "SUBTRACT"
                        return AdminOutcome(.invalidConfig, "Can't \(verb) to key \(change.name) because its type is not LIST.")
                    }
                    var items = ClientMetricsSubscription.listItems(configs[change.name] ?? "")
                    for item in ClientMetricsSubscription.listItems(change.value ?? "") {
                        if change.operation == ConfigAlterer.Operation.append.rawValue {
                            if !items.contains(item) { items.append(item) }
                        } else {
                            items.removeAll { $0 == item }
                        }
                    }
                    configs[change.name] = items.joined(separator: ",")
                case nil:
                    return AdminOutcome(.invalidRequest, "Unknown operation type \(change.operation) for config \(change.name)")
                }
            }
            let subscription: ClientMetricsSubscription
            switch ClientMetricsSubscription.validated(name: name, configs: configs) {
            case .failure(let outcome): return outcome
            case .success(let valid): subscription = valid
            }
            var all = state.withLockedValue { $0 }
            if configs.isEmpty {
                all.removeValue(forKey: name)
            } else {
                if all[name] == nil && all.count >= Self.maximumSubscriptions {
                    return AdminOutcome(.policyViolation, "At most \(Self.maximumSubscriptions) client metrics subscriptions are kept.")
                }
                all[name] = subscription
            }
            guard !validateOnly else { return .success }
            do {
                try persist(all)
            } catch {
                return AdminOutcome(.unknownServerError, "\(error)")
            }
            state.withLockedValue { $0 = all }
            onChange(all)
            return .success
        }
    }

    private func persist(_ subscriptions: [String: ClientMetricsSubscription]) throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(subscriptions.mapValues(\.configs))
        try DurableTextFile.write(String(decoding: data, as: UTF8.self), to: path)
    }
}
