import Foundation
import LogEngine
import NIOConcurrencyHelpers

/// Kafka's StandardAuthorizer semantics over ACLs kept durably in `<data dir>/acls.json`:
/// super users (`super.users`) may do everything; otherwise the bindings whose pattern covers the resource are
/// consulted, and any DENY that matches principal (or `User:*`), host (or `*`) and operation (or ALL) denies;
/// else a matching ALLOW allows — READ, WRITE, DELETE and ALTER imply DESCRIBE, ALTER_CONFIGS implies
/// DESCRIBE_CONFIGS; a resource with no binding at all is allowed only with `allow.everyone.if.no.acl.found`.
/// Changes apply at once and are written (atomically, fsynced) before they are acknowledged. Thread-safe.
public final class StandardAuthorizer: Sendable {
    /// The class name that enables the authorizer, as in Kafka's `authorizer.class.name`.
    public static let className = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    /// Kafka's older authorizer name, accepted as a synonym.
    public static let legacyClassName = "kafka.security.authorizer.AclAuthorizer"
    /// The most bindings kept, so that CreateAcls cannot grow the set without bound.
    public static let maximumBindings = 100_000

    private let path: String?
    private let superUsers: Set<String>
    private let allowIfNoAcl: Bool
    private let bindings: NIOLockedValueBox<Set<AclBinding>>

    /// Loads the stored ACLs of `dataDirectory` (`nil`: in memory only).
    public init(dataDirectory: String?, superUsers: [String], allowEveryoneIfNoAclFound: Bool) throws {
        path = dataDirectory.map { $0 + "/acls.json" }
        self.superUsers = Set(superUsers)
        allowIfNoAcl = allowEveryoneIfNoAclFound
        var loaded: Set<AclBinding> = []
        if let path, let text = try DurableTextFile.read(path), !text.isEmpty {
            do {
                loaded = Set(try JSONDecoder().decode([AclBinding].self, from: Data(text.utf8)))
            } catch {
                throw BrokerError(.io, "cannot read the ACLs in \(path): \(error)")
            }
        }
        bindings = NIOLockedValueBox(loaded)
    }

    /// Whether `principal` connecting from `host` may perform `operation` on the resource.
    public func authorize(
        _ principal: KafkaPrincipal, host: String, _ operation: AclOperation, _ resourceType: AclResourceType,
        _ resourceName: String
    ) -> Bool {
        let principalText = principal.description
        if superUsers.contains(principalText) { return true }
        let wildcardPrincipal = "\(principal.type):*"
        return bindings.withLockedValue { all in
            var foundResourceAcl = false
            var allowed = false
            for binding in all where binding.resourceType == resourceType && binding.covers(resourceName) {
                foundResourceAcl = true
                guard binding.principal == principalText || binding.principal == wildcardPrincipal,
                    binding.host == host || binding.host == AclBinding.wildcard
                else { continue }
                switch binding.permission {
                case .deny where binding.operation == operation || binding.operation == .all:
                    return false
                case .allow where Self.implies(binding.operation, operation):
                    allowed = true
                default:
                    continue
                }
            }
            return allowed || (!foundResourceAcl && allowIfNoAcl)
        }
    }

    /// Whether the principal may perform `operation` on at least one resource of the type (Kafka's
    /// `authorizeByResourceType`, used for idempotent producers without cluster permission).
    public func authorizeAny(_ principal: KafkaPrincipal, host: String, _ operation: AclOperation, _ resourceType: AclResourceType) -> Bool {
        if superUsers.contains(principal.description) { return true }
        let candidates = bindings.withLockedValue { all in
            all.filter { $0.resourceType == resourceType && $0.permission == .allow }.map(\.resourceName)
        }
        return candidates.contains { authorize(principal, host: host, operation, resourceType, $0) }
    }

    private static func implies(_ granted: AclOperation, _ requested: AclOperation) -> Bool {
        if granted == requested || granted == .all { return true }
        switch requested {
        case .describe: return [.read, .write, .delete, .alter].contains(granted)
        case .describeConfigs: return granted == .alterConfigs
        default: return false
        }
    }

    /// The bindings matching `filter`.
    public func describe(_ filter: AclFilter) -> [AclBinding] {
        bindings.withLockedValue { Array($0.filter(filter.matches)) }
    }

    /// Adds bindings (existing ones are kept once); throws when they cannot be stored.
    public func create(_ new: [AclBinding]) throws {
        try update { all in
            all.formUnion(new)
            guard all.count <= Self.maximumBindings else {
                throw BrokerError(.invalidRequest, "too many ACLs (at most \(Self.maximumBindings))")
            }
        }
    }

    /// Removes the bindings matching each filter; returns them per filter.
    public func delete(_ filters: [AclFilter]) throws -> [[AclBinding]] {
        var removed: [[AclBinding]] = []
        try update { all in
            removed = filters.map { filter in all.filter(filter.matches) }
            for list in removed { all.subtract(list) }
        }
        return removed
    }

    private func update(_ change: (inout Set<AclBinding>) throws -> Void) throws {
        try bindings.withLockedValue { current in
            var next = current
            try change(&next)
            guard next != current else { return }
            if let path {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let sorted = next.sorted { ($0.resourceName, $0.principal, $0.operation.rawValue) < ($1.resourceName, $1.principal, $1.operation.rawValue) }
                let data = try encoder.encode(sorted)
                try DurableTextFile.write(String(decoding: data, as: UTF8.self), to: path)
            }
            current = next
        }
    }
}
