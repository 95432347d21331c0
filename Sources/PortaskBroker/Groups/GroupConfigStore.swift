import Foundation
import LogEngine
import NIOConcurrencyHelpers

/// Dynamic group configs (Kafka's GROUP config resources, type 32), kept durably in `<data dir>/group-configs.json`
/// (group id to its configs) and replaced whole on every change (written, fsynced, renamed). The share group
/// configs are served, each overriding its broker-wide default for one group:
///
/// - `share.auto.offset.reset` (`latest` or `earliest`): where a new share partition of the group starts;
/// - `share.record.lock.duration.ms`: how long its members hold acquired records
///   (`group.share.min/max.record.lock.duration.ms`, 15000–60000 by default);
/// - `share.heartbeat.interval.ms` (`group.share.min/max.heartbeat.interval.ms`, 5000–15000) and
///   `share.session.timeout.ms` (`group.share.min/max.session.timeout.ms`, 45000–60000), greater than the interval.
///
/// Other names get INVALID_CONFIG "Unknown group config name" (the consumer group configs are not served).
/// At most `maximumGroups` groups carry configs. A group's configs stay until deleted with DELETE or until the
/// share group is deleted (DeleteGroups).
/// Thread-safe: one lock over the configs; a change is written to disk before it is published.
final class GroupConfigStore: Sendable {
    static let fileName = "group-configs.json"
    static let maximumGroups = 100_000

    static let autoOffsetReset = "share.auto.offset.reset"
    static let recordLockDuration = "share.record.lock.duration.ms"
    static let heartbeatInterval = "share.heartbeat.interval.ms"
    static let sessionTimeout = "share.session.timeout.ms"
    static let names: [String] = [autoOffsetReset, heartbeatInterval, recordLockDuration, sessionTimeout]

    /// The broker's bounds and defaults of the served configs. A value type.
    struct Bounds: Sendable, Equatable {
        var lockDurationMs: ClosedRange<Int64> = 15_000...60_000
        var heartbeatIntervalMs: ClosedRange<Int64> = 5_000...15_000
        var sessionTimeoutMs: ClosedRange<Int64> = 45_000...60_000
        /// The broker-wide values, for DescribeConfigs and for checking a partial override.
        var defaults: [String: String] = [
            autoOffsetReset: "latest", recordLockDuration: "30000", heartbeatInterval: "5000", sessionTimeout: "45000",
        ]
    }

    let bounds: Bounds
    private let path: String?
    private let state: NIOLockedValueBox<[String: [String: String]]>
    private let writer = NIOLock()

    /// A store over `loaded`, written to `path` on change (nil: in memory only).
    init(bounds: Bounds = Bounds(), path: String? = nil, loaded: [String: [String: String]] = [:]) {
        self.bounds = bounds
        self.path = path
        state = NIOLockedValueBox(loaded.filter { Self.problem(with: $0.value, bounds: bounds) == nil })
    }

    /// Loads the configs of `dataDirectory` (none when the file does not exist). Stored configs that no longer
    /// validate (the broker's bounds changed) are dropped.
    static func load(dataDirectory: String, bounds: Bounds) throws -> GroupConfigStore {
        let path = (dataDirectory as NSString).appendingPathComponent(fileName)
        var loaded: [String: [String: String]] = [:]
        if let text = try DurableTextFile.read(path) {
            do {
                loaded = try JSONDecoder().decode([String: [String: String]].self, from: Data(text.utf8))
            } catch {
                throw BrokerError(.configuration, "\(path) is not a group configs file: \(error)")
            }
        }
        return GroupConfigStore(bounds: bounds, path: path, loaded: loaded)
    }

    /// The configs set on a group (empty when none).
    func configs(of groupId: String) -> [String: String] {
        state.withLockedValue { $0[groupId] ?? [:] }
    }

    /// The group's `share.auto.offset.reset`: true for earliest, false for latest; nil when not set.
    func startsAtEarliest(_ groupId: String) -> Bool? {
        configs(of: groupId)[Self.autoOffsetReset].map { $0 == "earliest" }
    }

    /// An integer config of the group; nil when not set.
    func integer(_ name: String, of groupId: String) -> Int64? {
        configs(of: groupId)[name].flatMap { Int64($0) }
    }

    /// Alters a group's configs: `replace` sets them whole (AlterConfigs), otherwise each change applies
    /// (IncrementalAlterConfigs: SET and DELETE; APPEND and SUBTRACT are refused, no group config is a list).
    func alter(groupId: String, changes: [ConfigAlterer.Change], replace: Bool, validateOnly: Bool) -> AdminOutcome {
        guard !groupId.isEmpty else { return AdminOutcome(.invalidRequest, "Group name must not be empty") }
        return writer.withLock {
            var configs = replace ? [:] : self.configs(of: groupId)
            for change in changes {
                guard Self.names.contains(change.name) else {
                    return AdminOutcome(.invalidConfig, "Unknown group config name: \(change.name)")
                }
                switch replace ? ConfigAlterer.Operation.set : ConfigAlterer.Operation(rawValue: change.operation) {
                case .set: configs[change.name] = change.value?.trimmingCharacters(in: .whitespaces)
                case .delete: configs.removeValue(forKey: change.name)
                case .append, .subtract:
                    let verb = change.operation == ConfigAlterer.Operation.append.rawValue ? "APPEND" : "SUBTRACT"
                    return AdminOutcome(.invalidConfig, "Can't \(verb) to key \(change.name) because its type is not LIST.")
                case nil:
                    return AdminOutcome(.invalidRequest, "Unknown operation type \(change.operation) for config \(change.name)")
                }
            }
            if let problem = Self.problem(with: configs, bounds: bounds) { return AdminOutcome(.invalidConfig, problem) }
            var all = state.withLockedValue { $0 }
            if configs.isEmpty {
                all.removeValue(forKey: groupId)
            } else {
                if all[groupId] == nil && all.count >= Self.maximumGroups {
                    return AdminOutcome(.policyViolation, "At most \(Self.maximumGroups) groups carry group configs.")
                }
                all[groupId] = configs
            }
            guard !validateOnly else { return .success }
            do {
                try persist(all)
            } catch {
                return AdminOutcome(.unknownServerError, "\(error)")
            }
            state.withLockedValue { $0 = all }
            return .success
        }
    }

    /// Removes every config of a group (its group was deleted), durably; nothing happens when it has none.
    func remove(groupId: String) throws {
        try writer.withLock {
            var all = state.withLockedValue { $0 }
            guard all.removeValue(forKey: groupId) != nil else { return }
            try persist(all)
            state.withLockedValue { $0 = all }
        }
    }

    /// Kafka's message for the first invalid value of `configs` (checked together with the broker defaults
    /// for what is not set), nil when valid.
    static func problem(with configs: [String: String], bounds: Bounds) -> String? {
        if let reset = configs[autoOffsetReset], reset != "latest", reset != "earliest" {
            return "Invalid value \(reset) for configuration \(autoOffsetReset): String must be one of: latest, earliest"
        }
        let ranged: [(String, ClosedRange<Int64>, String)] = [
            (recordLockDuration, bounds.lockDurationMs, "group.share.%@.record.lock.duration.ms"),
            (heartbeatInterval, bounds.heartbeatIntervalMs, "group.share.%@.heartbeat.interval.ms"),
            (sessionTimeout, bounds.sessionTimeoutMs, "group.share.%@.session.timeout.ms"),
        ]
        for (name, range, broker) in ranged {
            guard let text = configs[name] else { continue }
            guard let value = Int32(text) else {
                return "Invalid value \(text) for configuration \(name): Not a number of type INT"
            }
            if Int64(value) < range.lowerBound {
                return "\(name) must be greater than or equal to \(broker.replacingOccurrences(of: "%@", with: "min"))"
            }
            if Int64(value) > range.upperBound {
                return "\(name) must be less than or equal to \(broker.replacingOccurrences(of: "%@", with: "max"))"
            }
        }
        let session = configs[sessionTimeout].flatMap { Int64($0) } ?? bounds.defaults[sessionTimeout].flatMap { Int64($0) }
        let interval = configs[heartbeatInterval].flatMap { Int64($0) } ?? bounds.defaults[heartbeatInterval].flatMap { Int64($0) }
        if configs[sessionTimeout] != nil || configs[heartbeatInterval] != nil, let session, let interval, session <= interval {
            return "\(sessionTimeout) must be greater than \(heartbeatInterval)"
        }
        return nil
    }

    private func persist(_ all: [String: [String: String]]) throws {
        guard let path else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableTextFile.write(String(decoding: try encoder.encode(all), as: UTF8.self), to: path)
    }
}
