import Foundation
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
@testable import PortaskBroker

/// Timers driven by the test: `advance(by:)` moves the clock and fires what became due.
final class ManualTimers: GroupTimers, Sendable {
    private struct Entry {
        var id: Int
        var due: Int64
        var action: @Sendable () -> Void
    }

    private let state = NIOLockedValueBox<(now: Int64, next: Int, entries: [Entry])>((1_000_000, 0, []))

    func nowMs() -> Int64 { state.withLockedValue { $0.now } }

    func schedule(afterMs delayMs: Int64, _ action: @escaping @Sendable () -> Void) -> GroupTimer {
        let id = state.withLockedValue { state -> Int in
            state.next += 1
            state.entries.append(Entry(id: state.next, due: state.now.saturatingAdd(delayMs), action: action))
            return state.next
        }
        return GroupTimer { [weak self] in
            self?.state.withLockedValue { $0.entries.removeAll { $0.id == id } }
        }
    }

    /// Moves the clock, fires due timers in order, then lets the spawned group tasks run.
    func advance(by ms: Int64) async {
        let due = state.withLockedValue { state -> [Entry] in
            state.now += ms
            let due = state.entries.filter { $0.due <= state.now }.sorted { $0.due < $1.due }
            state.entries.removeAll { $0.due <= state.now }
            return due
        }
        for entry in due { entry.action() }
        await settle()
    }
}

/// Gives tasks spawned by timers time to reach the group actor.
func settle() async {
    try? await Task.sleep(for: .milliseconds(30))
}

/// A GroupStore in memory.
final class MemoryGroupStore: GroupStore {
    let records = NIOLockedValueBox<[GroupRecord]>([])

    func append(_ records: [GroupRecord], groupId: String) async throws {
        self.records.withLockedValue { $0 += records }
    }
}

enum GroupFixtures {
    static func coordinator(
        delayMs: Int64 = 0, topics: TopicManager? = nil, configure: (inout GroupCoordinatorConfig) -> Void = { _ in }
    ) -> (GroupCoordinator, ManualTimers, MemoryGroupStore) {
        var config = GroupCoordinatorConfig()
        config.initialRebalanceDelayMs = delayMs
        config.offsetsRetentionMs = 60_000
        configure(&config)
        let timers = ManualTimers()
        let store = MemoryGroupStore()
        let coordinator = GroupCoordinator(
            config: config, timers: timers, store: store, offsetsTopic: nil, topics: topics, logger: Logger(label: "test"))
        return (coordinator, timers, store)
    }

    static func join(
        _ memberId: String = "", instance: String? = nil, protocols: [String] = ["range"], session: Int32 = 6000,
        version: Int16 = 9
    ) -> JoinGroupInput {
        JoinGroupInput(
            memberId: memberId, groupInstanceId: instance, clientId: "client", clientHost: "/127.0.0.1",
            sessionTimeoutMs: session, rebalanceTimeoutMs: 10_000, protocolType: "consumer",
            protocols: protocols.map { MemberProtocol(name: $0, metadata: ByteBuffer(bytes: [0, 1])) },
            requireKnownMemberId: version >= 4, supportsSkipAssignment: version >= 9)
    }
}
