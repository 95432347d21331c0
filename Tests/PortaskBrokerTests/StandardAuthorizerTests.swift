import Foundation
import Testing
@testable import PortaskBroker

/// ACL matching with Kafka's StandardAuthorizer semantics, filters, and durable storage.
struct StandardAuthorizerTests {
    let alice = KafkaPrincipal(name: "alice")
    let bob = KafkaPrincipal(name: "bob")

    private func binding(
        _ name: String, _ operation: AclOperation, type: AclResourceType = .topic, pattern: AclPatternType = .literal,
        principal: String = "User:alice", host: String = "*", permission: AclPermission = .allow
    ) -> AclBinding {
        AclBinding(
            resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: host,
            operation: operation, permission: permission)
    }

    @Test func matchesLiteralPrefixedAndWildcardPatterns() throws {
        let authorizer = try StandardAuthorizer(dataDirectory: nil, superUsers: [], allowEveryoneIfNoAclFound: false)
        try authorizer.create([
            binding("orders", .read), binding("logs-", .write, pattern: .prefixed), binding("*", .describe, principal: "User:bob"),
        ])
        #expect(authorizer.authorize(alice, host: "1.2.3.4", .read, .topic, "orders"))
        #expect(!authorizer.authorize(alice, host: "1.2.3.4", .read, .topic, "orders2"))
        #expect(authorizer.authorize(alice, host: "1.2.3.4", .write, .topic, "logs-app"))
        #expect(!authorizer.authorize(alice, host: "1.2.3.4", .write, .topic, "log"))
        #expect(authorizer.authorize(bob, host: "1.2.3.4", .describe, .topic, "anything"))
        #expect(!authorizer.authorize(bob, host: "1.2.3.4", .read, .topic, "anything"))
        // Topic ACLs say nothing about groups.
        #expect(!authorizer.authorize(alice, host: "1.2.3.4", .read, .group, "orders"))
    }

    @Test func denyWinsAndReadImpliesDescribe() throws {
        let authorizer = try StandardAuthorizer(dataDirectory: nil, superUsers: ["User:root"], allowEveryoneIfNoAclFound: false)
        try authorizer.create([
            binding("t", .all), binding("t", .write, permission: .deny), binding("u", .read), binding("c", .alterConfigs),
            binding("h", .read, principal: "User:*", host: "10.0.0.1"),
        ])
        #expect(authorizer.authorize(alice, host: "h", .read, .topic, "t"))
        #expect(!authorizer.authorize(alice, host: "h", .write, .topic, "t"))
        #expect(authorizer.authorize(alice, host: "h", .describe, .topic, "u"))
        #expect(!authorizer.authorize(alice, host: "h", .write, .topic, "u"))
        #expect(authorizer.authorize(alice, host: "h", .describeConfigs, .topic, "c"))
        #expect(authorizer.authorize(bob, host: "10.0.0.1", .read, .topic, "h"))
        #expect(!authorizer.authorize(bob, host: "10.0.0.2", .read, .topic, "h"))
        #expect(authorizer.authorize(KafkaPrincipal(name: "root"), host: "h", .write, .topic, "t"))
    }

    @Test func resourcesWithoutAclsFollowAllowEveryoneIfNoAclFound() throws {
        let open = try StandardAuthorizer(dataDirectory: nil, superUsers: [], allowEveryoneIfNoAclFound: true)
        try open.create([binding("guarded", .read)])
        #expect(open.authorize(bob, host: "h", .write, .topic, "free"))
        #expect(!open.authorize(bob, host: "h", .read, .topic, "guarded"))
        let closed = try StandardAuthorizer(dataDirectory: nil, superUsers: [], allowEveryoneIfNoAclFound: false)
        #expect(!closed.authorize(bob, host: "h", .write, .topic, "free"))
    }

    @Test func filtersDescribeAndDeleteAsKafka() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("acl-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let authorizer = try StandardAuthorizer(dataDirectory: directory, superUsers: [], allowEveryoneIfNoAclFound: false)
        let literal = binding("orders", .read)
        let prefixed = binding("ord", .write, pattern: .prefixed)
        let wildcard = binding("*", .describe, principal: "User:bob")
        let group = binding("g", .read, type: .group)
        try authorizer.create([literal, prefixed, wildcard, group])
        func filter(_ type: AclResourceType = .any, _ name: String? = nil, _ pattern: AclPatternType = .any,
                    principal: String? = nil) -> AclFilter {
            AclFilter(resourceType: type, resourceName: name, patternType: pattern, principal: principal, host: nil,
                      operation: .any, permission: .any)
        }
        #expect(Set(authorizer.describe(filter())) == [literal, prefixed, wildcard, group])
        #expect(Set(authorizer.describe(filter(.topic, "orders", .match))) == [literal, prefixed, wildcard])
        #expect(Set(authorizer.describe(filter(.topic, "orders", .literal))) == [literal])
        #expect(Set(authorizer.describe(filter(principal: "User:bob"))) == [wildcard])
        #expect(binding("other", .alter, type: .cluster).validationProblem != nil)
        #expect(binding("x", .read, principal: "alice").validationProblem != nil)
        #expect(binding("x", .read, pattern: .match).validationProblem != nil)
        let removed = try authorizer.delete([filter(.topic, "orders", .match)])
        #expect(Set(removed[0]) == [literal, prefixed, wildcard])
        let reopened = try StandardAuthorizer(dataDirectory: directory, superUsers: [], allowEveryoneIfNoAclFound: false)
        #expect(reopened.describe(filter()) == [group])
    }
}
