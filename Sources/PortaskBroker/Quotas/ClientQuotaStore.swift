import Foundation
import KafkaProtocol
import LogEngine
import NIOConcurrencyHelpers

/// The client quotas (`user`, `client-id` and `ip` entities and their quota values), kept durably in
/// `<data dir>/client-quotas.json` and replaced whole on every change (written, fsynced, renamed).
///
/// Describing follows Kafka's filter rules (exact, default and "any name" components, strict or not); altering
/// follows its validation (entity types and combinations, known keys, positive values, whole numbers for byte
/// rates), an entity losing its last quota disappears. At most `maximumEntities` entities are kept.
/// Thread-safe: the quotas live under one lock; a change is written to disk before it is published.
final class ClientQuotaStore: Sendable {
    static let fileName = "client-quotas.json"
    static let maximumEntities = 10_000

    private struct Stored: Codable {
        var entity: ClientQuotaEntity
        var quotas: [String: Double]
    }

    private let path: String?
    private let state: NIOLockedValueBox<[ClientQuotaEntity: [String: Double]]>
    /// Serialises changes (validation, write, publication) so that two alterations never interleave.
    private let writer = NIOLock()
    /// Called with the new quotas after every change.
    private let onChange: @Sendable ([ClientQuotaEntity: [String: Double]]) -> Void

    /// Loads the quotas of `dataDirectory` (none when the file does not exist; `nil` keeps them in memory only).
    init(dataDirectory: String?, onChange: @escaping @Sendable ([ClientQuotaEntity: [String: Double]]) -> Void = { _ in }) throws {
        path = dataDirectory.map { ($0 as NSString).appendingPathComponent(Self.fileName) }
        var loaded: [ClientQuotaEntity: [String: Double]] = [:]
        if let path, let text = try DurableTextFile.read(path) {
            do {
                for entry in try JSONDecoder().decode([Stored].self, from: Data(text.utf8)) where !entry.quotas.isEmpty {
                    loaded[entry.entity] = entry.quotas
                }
            } catch {
                throw BrokerError(.configuration, "\(path) is not a client quota file: \(error)")
            }
        }
        state = NIOLockedValueBox(loaded)
        self.onChange = onChange
        onChange(loaded)
    }

    /// Every entity and its quotas.
    var all: [ClientQuotaEntity: [String: Double]] { state.withLockedValue { $0 } }

    /// DescribeClientQuotas: the entities matching the filter, or Kafka's error for a malformed filter.
    func describe(_ request: DescribeClientQuotasRequest) -> DescribeClientQuotasResponse {
        var exact: [String: String?] = [:]
        var anyName = Set<String>()
        func failure(_ code: KafkaErrorCode, _ message: String) -> DescribeClientQuotasResponse {
            DescribeClientQuotasResponse(errorCode: code.rawValue, errorMessage: message, entries: nil)
        }
        for component in request.components {
            let type = component.entityType
            if type.isEmpty { return failure(.invalidRequest, "Invalid empty entity type.") }
            if exact.keys.contains(type) || anyName.contains(type) {
                return failure(.invalidRequest, "Entity type \(type) cannot appear more than once in the filter.")
            }
            guard [ClientQuotaEntity.user, ClientQuotaEntity.clientId, ClientQuotaEntity.ip].contains(type) else {
                return failure(.unsupportedVersion, "Unsupported entity type \(type)")
            }
            switch component.matchType {
            case 0:
                guard let match = component.match else {
                    return failure(.invalidRequest, "Request specified MATCH_TYPE_EXACT, but set match string to null.")
                }
                exact[type] = .some(match)
            case 1:
                if component.match != nil {
                    return failure(.invalidRequest, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")
                }
                exact[type] = .some(nil)
            case 2:
                if component.match != nil {
                    return failure(.invalidRequest, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")
                }
                anyName.insert(type)
            default:
                return failure(.invalidRequest, "Unknown match type \(component.matchType)")
            }
        }
        let named = Set(exact.keys).union(anyName)
        if named.contains(ClientQuotaEntity.ip),
           named.contains(ClientQuotaEntity.user) || named.contains(ClientQuotaEntity.clientId)
        {
            return failure(.invalidRequest,
                "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.")
        }
        let matching = all.filter { entity, _ in
            if request.strict && entity.components.count != exact.count + anyName.count { return false }
            for (type, name) in exact {
                guard let present = entity.components[type], present == name else { return false }
            }
            return anyName.allSatisfy { entity.components.keys.contains($0) }
        }
        return DescribeClientQuotasResponse(entries: matching.sorted { "\($0.key.components)" < "\($1.key.components)" }.map { entity, quotas in
            .init(
                entity: entity.components.sorted { $0.key < $1.key }.map { .init(entityType: $0.key, entityName: $0.value) },
                values: quotas.sorted { $0.key < $1.key }.map { .init(key: $0.key, value: $0.value) })
        })
    }

    /// AlterClientQuotas: each entry validated and applied (unless `validateOnly`), answered per entry.
    func alter(_ request: AlterClientQuotasRequest) throws -> AlterClientQuotasResponse {
        try writer.withLock {
            var quotas = all
            var results: [AlterClientQuotasResponse.EntryData] = []
            var seen = Set<ClientQuotaEntity>()
            for entry in request.entries {
                var result = AlterClientQuotasResponse.EntryData(
                    entity: entry.entity.map { .init(entityType: $0.entityType, entityName: $0.entityName) })
                switch apply(entry, to: &quotas, seen: &seen) {
                case .success:
                    break
                case .failure(let error):
                    result.errorCode = KafkaErrorCode.invalidRequest.rawValue
                    result.errorMessage = error.message
                }
                results.append(result)
            }
            if !request.validateOnly && quotas != all {
                if let path {
                    let stored = quotas.map { Stored(entity: $0.key, quotas: $0.value) }
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    try DurableTextFile.write(String(decoding: try encoder.encode(stored), as: UTF8.self), to: path)
                }
                state.withLockedValue { $0 = quotas }
                onChange(quotas)
            }
            return AlterClientQuotasResponse(entries: results)
        }
    }

    private func apply(
        _ entry: AlterClientQuotasRequest.EntryData, to quotas: inout [ClientQuotaEntity: [String: Double]],
        seen: inout Set<ClientQuotaEntity>
    ) -> Result<Void, QuotaError> {
        let validated = ClientQuotaEntity.validated(entry.entity.map { ($0.entityType, $0.entityName) })
        guard case .success(let (entity, keys)) = validated else {
            if case .failure(let error) = validated { return .failure(error) }
            return .success(())
        }
        guard seen.insert(entity).inserted else { return .failure(QuotaError("Ignoring duplicate entity \(entity.components)")) }
        var keysSeen = Set<String>()
        var updated = quotas[entity] ?? [:]
        for op in entry.ops {
            guard keysSeen.insert(op.key).inserted else { return .failure(QuotaError("Duplicate quota key \(op.key)")) }
            if op.remove {
                updated.removeValue(forKey: op.key)
                continue
            }
            guard let whole = keys[op.key] else { return .failure(QuotaError("Invalid configuration key \(op.key)")) }
            guard op.value > 0, op.value.isFinite else { return .failure(QuotaError("Quota \(op.key) must be greater than 0")) }
            if whole {
                if op.value > Double(Int64.max) {
                    return .failure(QuotaError("Proposed value for \(op.key) is too large for a LONG."))
                }
                if abs(op.value.truncatingRemainder(dividingBy: 1)) > 1e-6 {
                    return .failure(QuotaError("\(op.key) cannot be a fractional value."))
                }
            }
            updated[op.key] = op.value
        }
        if updated.isEmpty {
            quotas.removeValue(forKey: entity)
        } else {
            if quotas[entity] == nil && quotas.count >= Self.maximumEntities {
                return .failure(QuotaError("No more than \(Self.maximumEntities) client quota entities are kept"))
            }
            quotas[entity] = updated
        }
        return .success(())
    }
}
