/// The controller's answer to brokers leaving and returning: a partition whose leader is no longer registered
/// goes offline (leader -1, epochs raised; its ISR keeps the last leader, as Kafka keeps it); an offline partition
/// whose in-sync replica is registered again gets that replica as leader (epochs raised). Nothing else moves.
/// Every write is conditional on the controller's fence and on the topic being unchanged since the image was
/// read; a lost race is left to the next image. Thread-safe (stateless over the store).
struct PartitionLeadershipReconciler: Sendable {
    let topics: ClusterTopics

    /// The partition states `topic` should have when `live` are the registered brokers; nil when none changes.
    static func reconciled(_ topic: ClusterTopic, live: Set<Int32>) -> ClusterTopic? {
        var next = topic
        var changed = false
        for index in topic.partitions.indices {
            let state = topic.partitions[index]
            if state.leader != ClusterPartitionState.noLeader {
                guard !live.contains(state.leader) else { continue }
                next.partitions[index] = state.withLeader(ClusterPartitionState.noLeader)
                changed = true
            } else if let candidate = state.replicas.first(where: { state.isr.contains($0) && live.contains($0) }) {
                next.partitions[index] = state.withLeader(candidate)
                changed = true
            }
        }
        return changed ? next : nil
    }

    /// Writes the leadership changes `image` calls for; returns how many topics were rewritten.
    @discardableResult
    func reconcile(_ image: MetadataImage, leadership: ControllerLeadership) async throws -> Int {
        let live = Set(image.brokers.keys)
        var written = 0
        for name in image.topics.keys.sorted() {
            guard let topic = image.topics[name], let revision = image.topicRevisions[name],
                let next = Self.reconciled(topic, live: live)
            else { continue }
            if try await topics.replace(next, ifAt: revision, leadership: leadership) { written += 1 }
        }
        return written
    }
}
