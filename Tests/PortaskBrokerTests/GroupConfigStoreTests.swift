import Foundation
import KafkaProtocol
import Testing
@testable import PortaskBroker

struct GroupConfigStoreTests {
    static func set(_ name: String, _ value: String?) -> ConfigAlterer.Change {
        .init(name: name, operation: ConfigAlterer.Operation.set.rawValue, value: value)
    }

    @Test func alter_validatesAsKafkaAndSurvivesAReload() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try GroupConfigStore.load(dataDirectory: directory, bounds: .init())
        let ok = store.alter(groupId: "g", changes: [
            Self.set("share.auto.offset.reset", "earliest"), Self.set("share.record.lock.duration.ms", "20000"),
        ], replace: false, validateOnly: false)
        #expect(ok.isSuccess)
        #expect(store.startsAtEarliest("g") == true && store.startsAtEarliest("other") == nil)
        #expect(store.integer("share.record.lock.duration.ms", of: "g") == 20_000)

        let cases: [(ConfigAlterer.Change, KafkaErrorCode, String)] = [
            (Self.set("share.auto.offset.reset", "sometimes"), .invalidConfig,
             "Invalid value sometimes for configuration share.auto.offset.reset: String must be one of: latest, earliest"),
            (Self.set("share.record.lock.duration.ms", "1000"), .invalidConfig,
             "share.record.lock.duration.ms must be greater than or equal to group.share.min.record.lock.duration.ms"),
            (Self.set("share.record.lock.duration.ms", "99999999999"), .invalidConfig,
             "Invalid value 99999999999 for configuration share.record.lock.duration.ms: Not a number of type INT"),
            (Self.set("share.heartbeat.interval.ms", "16000"), .invalidConfig,
             "share.heartbeat.interval.ms must be less than or equal to group.share.max.heartbeat.interval.ms"),
            (Self.set("consumer.session.timeout.ms", "50000"), .invalidConfig, "Unknown group config name: consumer.session.timeout.ms"),
            (.init(name: "share.auto.offset.reset", operation: 2, value: "x"), .invalidConfig,
             "Can't APPEND to key share.auto.offset.reset because its type is not LIST."),
        ]
        for (change, code, message) in cases {
            let outcome = store.alter(groupId: "g", changes: [change], replace: false, validateOnly: false)
            #expect(outcome.code == code && outcome.message == message)
        }
        // The session timeout must stay above the heartbeat interval, the broker's value counting where unset.
        let bounds = GroupConfigStore.Bounds(sessionTimeoutMs: 1_000...60_000)
        let loose = GroupConfigStore(bounds: bounds)
        #expect(loose.alter(groupId: "g", changes: [Self.set("share.session.timeout.ms", "5000")], replace: false,
                            validateOnly: false).message == "share.session.timeout.ms must be greater than share.heartbeat.interval.ms")
        // validateOnly changes nothing; DELETE removes; the group's last config removed drops the group.
        #expect(store.alter(groupId: "g", changes: [Self.set("share.auto.offset.reset", "latest")], replace: false,
                            validateOnly: true).isSuccess)
        #expect(store.startsAtEarliest("g") == true)
        let reloaded = try GroupConfigStore.load(dataDirectory: directory, bounds: .init())
        #expect(reloaded.configs(of: "g") == ["share.auto.offset.reset": "earliest", "share.record.lock.duration.ms": "20000"])
        let delete = ConfigAlterer.Change(name: "share.auto.offset.reset", operation: 1, value: nil)
        #expect(reloaded.alter(groupId: "g", changes: [delete], replace: false, validateOnly: false).isSuccess)
        #expect(reloaded.alter(groupId: "g", changes: [], replace: true, validateOnly: false).isSuccess)
        #expect(try GroupConfigStore.load(dataDirectory: directory, bounds: .init()).configs(of: "g").isEmpty)
    }

    @Test func describeConfigs_answersTheGroupsOwnValuesAndTheBrokers() throws {
        let fixture = try TemporaryTopics()
        let store = GroupConfigStore()
        _ = store.alter(groupId: "g", changes: [Self.set("share.auto.offset.reset", "earliest")], replace: false,
                        validateOnly: false)
        let handler = DescribeConfigsHandler(topics: fixture.manager, groupConfigs: store)
        let response = handler.respond(DescribeConfigsRequest(resources: [
            .init(resourceType: 32, resourceName: "g", configurationKeys: nil),
        ]), version: 4)
        let configs = Dictionary(uniqueKeysWithValues: response.results[0].configs.map { ($0.name, $0) })
        #expect(configs["share.auto.offset.reset"]?.value == "earliest")
        #expect(configs["share.auto.offset.reset"]?.configSource == 8)
        #expect(configs["share.record.lock.duration.ms"]?.value == "30000")
        #expect(configs["share.record.lock.duration.ms"]?.configSource == 5)
        #expect(configs.count == 4)
    }
}
