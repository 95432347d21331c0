import KafkaProtocol
import LogEngine

extension TopicManager {
    /// Makes the local view of a topic match the cluster metadata: its id, partition count and configs are
    /// stored as given, and a log exists for each partition in `hosted` (the partitions this broker holds; the
    /// others have none here). A topic known here under another id (deleted and created again while this broker
    /// was away) is replaced, its old logs deleted. Returns whether anything changed. Blocks (files, fsync).
    @discardableResult
    func applyClusterTopic(
        name: String, id: KafkaUUID, partitionCount: Int, configs: [String: String], hosted: Set<Int32>
    ) throws -> Bool {
        if let existing = topic(named: name), existing.id != id {
            try deleteLocally(name: name)
        }
        return try changes.withLock {
            let previous = topic(named: name)
            let logConfig = config.logConfig(overrides: configs)
            var changed = false
            for index in hosted.sorted() where index >= 0 && Int(index) < partitionCount {
                let partition = TopicPartition(name, index)
                if logs.log(for: partition) == nil {
                    try logs.createLog(for: partition, config: logConfig)
                    changed = true
                }
            }
            let topic = Topic(name: name, id: id, partitionCount: partitionCount, configs: configs)
            guard previous != topic else { return changed }
            try store.save(topic)
            state.withLockedValue { $0.put(topic, resolver: config.topicConfigResolver) }
            if previous?.configs != configs {
                for index in hosted.sorted() where Int(index) < partitionCount {
                    try partition(name, index)?.updateConfig(logConfig)
                }
            }
            return true
        }
    }
}
