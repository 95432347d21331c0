import KafkaProtocol
import LogEngine
import NIOCore

extension ShareStateTopic {
    /// One stored share partition: its key and its state (its latest snapshot with the later updates applied).
    struct Stored {
        var key: StateKey
        var state: SharePartitionState
    }

    /// Every stored share partition, replayed in log order per partition of the topic: a snapshot replaces the
    /// share partition's state, an update is applied to it (an update with no snapshot before it starts from an
    /// empty state, as Kafka's share coordinator does, and the next write is a snapshot), a tombstone removes it.
    /// Restores the bookkeeping `write` and `prune` rely on. Unreadable records are skipped and counted in
    /// `report`. Call once, at start-up, before any write.
    func loadAll(deliveryLimit: Int16, maxRecordLocks: Int, _ report: inout OffsetsTopicLoadReport) -> [Stored] {
        guard let topic = topics.topic(named: Self.name) else { return [] }
        var states: [StateKey: SharePartitionState] = [:]
        var order: [StateKey] = []
        var loaded: [StateKey: Progress] = [:]
        for index in 0..<Int32(clamping: topic.partitionCount) {
            guard let log = topics.partition(Self.name, index) else { continue }
            var offset = log.logStartOffset
            let end = log.logEndOffset
            while offset < end {
                do {
                    guard let slice = try log.read(from: offset, maxBytes: 1 << 20, upperBound: end) else { break }
                    var problems: [String] = []
                    try slice.withUnsafeBytes { raw in
                        OffsetsTopic.decodeBatches(raw, report: &report, control: { _, _ in }) { header, keyBytes, valueBytes in
                            do {
                                var keyBuffer = keyBytes
                                let version = try ShareSnapshotKey.readRecordVersion(from: &keyBuffer)
                                switch version {
                                case Self.snapshotKeyVersion:
                                    let parsed = try ShareSnapshotKey.decode(from: &keyBuffer, version: version)
                                    let key = StateKey(groupId: parsed.groupId, topicId: parsed.topicId, partition: parsed.partition)
                                    guard let valueBytes else {
                                        states.removeValue(forKey: key)
                                        loaded.removeValue(forKey: key)
                                        return
                                    }
                                    let value = try ShareSnapshotValue.decodeRecord(valueBytes).record
                                    if states[key] == nil { order.append(key) }
                                    states[key] = SharePartitionState(
                                        restoring: value, deliveryLimit: deliveryLimit, maxRecordLocks: maxRecordLocks)
                                    loaded[key] = Progress(
                                        index: index, snapshotOffset: header.baseOffset, snapshotEpoch: value.snapshotEpoch,
                                        updates: 0)
                                case Self.updateKeyVersion:
                                    let parsed = try ShareUpdateKey.decode(from: &keyBuffer, version: version)
                                    let key = StateKey(groupId: parsed.groupId, topicId: parsed.topicId, partition: parsed.partition)
                                    guard let valueBytes else { return }
                                    let value = try ShareUpdateValue.decodeRecord(valueBytes).record
                                    if var state = states[key] {
                                        state.apply(update: value)
                                        states[key] = state
                                        loaded[key]?.updates &+= 1
                                    } else {
                                        var state = SharePartitionState(
                                            startOffset: max(0, value.startOffset), deliveryLimit: deliveryLimit,
                                            maxRecordLocks: maxRecordLocks)
                                        state.apply(update: value)
                                        order.append(key)
                                        states[key] = state
                                        loaded[key] = Progress(
                                            index: index, snapshotOffset: header.baseOffset,
                                            snapshotEpoch: value.snapshotEpoch, updates: 0, needsSnapshot: true)
                                    }
                                default:
                                    return
                                }
                            } catch {
                                problems.append("\(Self.name)-\(index): \(error)")
                            }
                        }
                    }
                    for problem in problems { report.skippedRecord(problem) }
                    guard slice.nextOffset > offset else { break }
                    offset = slice.nextOffset
                } catch {
                    report.unreadablePartition("\(Self.name)-\(index) from offset \(offset): \(error)")
                    break
                }
            }
        }
        progress.withLockedValue { $0 = loaded }
        var listed = Set<StateKey>()
        return order.compactMap { key in
            guard listed.insert(key).inserted else { return nil }
            return states[key].map { Stored(key: key, state: $0) }
        }
    }
}
