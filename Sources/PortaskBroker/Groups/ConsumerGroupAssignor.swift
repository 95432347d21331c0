import LogEngine

/// The server-side assignors of the `consumer` group protocol (KIP-848): `uniform` (the default) and `range`.
/// Pure functions over the members' subscriptions and the topics' partition counts. Thread-safe.
enum ConsumerGroupAssignor: String, Sendable, CaseIterable {
    case uniform
    case range

    /// The assignor used when members name none (Kafka's first configured assignor).
    static let defaultAssignor = ConsumerGroupAssignor.uniform

    /// Assigns every partition of the subscribed topics to exactly one member subscribed to its topic.
    /// - Parameters:
    ///   - subscriptions: member id → subscribed topic names.
    ///   - partitionCounts: topic name → partition count (topics that do not exist are absent).
    ///   - previous: the previous target assignment, kept where it stays balanced (uniform is sticky).
    func assign(
        subscriptions: [String: Set<String>], partitionCounts: [String: Int], previous: [String: Set<TopicPartition>]
    ) -> [String: Set<TopicPartition>] {
        switch self {
        case .uniform: return Self.uniform(subscriptions, partitionCounts, previous)
        case .range: return Self.range(subscriptions, partitionCounts)
        }
    }

    /// Per topic, the subscribed members in id order get contiguous ranges; the first `n % m` get one more.
    static func range(_ subscriptions: [String: Set<String>], _ counts: [String: Int]) -> [String: Set<TopicPartition>] {
        var result = Dictionary(uniqueKeysWithValues: subscriptions.keys.map { ($0, Set<TopicPartition>()) })
        for (topic, count) in counts.sorted(by: { $0.key < $1.key }) {
            let members = subscriptions.filter { $0.value.contains(topic) }.keys.sorted()
            guard !members.isEmpty, count > 0 else { continue }
            let base = count / members.count
            let extra = count % members.count
            var next = 0
            for (index, member) in members.enumerated() {
                let size = base + (index < extra ? 1 : 0)
                for partition in next..<(next + size) { result[member]?.insert(TopicPartition(topic, Int32(partition))) }
                next += size
            }
        }
        return result
    }

    /// Spreads all partitions evenly (counts differ by at most one among members with the same subscription),
    /// keeping each partition with its previous owner while that owner stays within its quota.
    static func uniform(
        _ subscriptions: [String: Set<String>], _ counts: [String: Int], _ previous: [String: Set<TopicPartition>]
    ) -> [String: Set<TopicPartition>] {
        let members = subscriptions.keys.sorted()
        var result = Dictionary(uniqueKeysWithValues: members.map { ($0, Set<TopicPartition>()) })
        guard !members.isEmpty else { return result }
        let partitions = counts.sorted { $0.key < $1.key }.flatMap { topic, count in
            (0..<count).map { TopicPartition(topic, Int32($0)) }
        }.filter { partition in members.contains { subscriptions[$0]?.contains(partition.topic) == true } }
        let minQuota = partitions.count / members.count
        var extraSlots = partitions.count % members.count
        var assigned = Set<TopicPartition>()
        // Sticky pass: keep up to the minimum quota, then one extra while extra slots remain.
        for member in members {
            let kept = (previous[member] ?? []).filter {
                subscriptions[member]?.contains($0.topic) == true && (counts[$0.topic] ?? 0) > Int($0.partition)
            }.sorted()
            var take = Array(kept.prefix(minQuota))
            if kept.count > minQuota && extraSlots > 0 {
                take.append(kept[minQuota])
                extraSlots -= 1
            }
            for partition in take where !assigned.contains(partition) {
                result[member]?.insert(partition)
                assigned.insert(partition)
            }
        }
        // Fill: every remaining partition to the least-loaded subscribed member (ties by id).
        for partition in partitions where !assigned.contains(partition) {
            let eligible = members.filter { subscriptions[$0]?.contains(partition.topic) == true }
            guard let target = eligible.min(by: { (result[$0]?.count ?? 0, $0) < (result[$1]?.count ?? 0, $1) }) else {
                continue
            }
            result[target]?.insert(partition)
            assigned.insert(partition)
        }
        return result
    }
}
