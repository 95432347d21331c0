/// Where a `TopicManager` sends topic changes in cluster mode: to the cluster metadata, from which every broker
/// (this one included) applies them to its own logs. Each call returns once this broker has applied the change,
/// so the caller sees it at once; it throws `BrokerError` when the change is refused or the metadata store
/// cannot be reached. Calls block their thread (they wait for the store): callers are admin paths that run on
/// the thread pool. Implementations are thread-safe.
protocol TopicChangeRouter: Sendable {
    func create(name: String, partitions: Int, configs: [String: String]) throws(TopicManager.CreateError)
    func delete(name: String) throws
    func addPartitions(name: String, count: Int) throws
    func setConfigs(name: String, configs: [String: String]) throws
}
