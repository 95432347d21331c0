import LogEngine

extension SharePartitions {
    /// Per share partition, in Prometheus text format: records acquired now (in flight), lag (records of the
    /// partition up to its high watermark the group has not finished), redeliveries and records archived at the
    /// delivery limit since start-up. Group ids are escaped as label values.
    func exposition(topics: TopicManager) -> String {
        let entries = allStates().sorted { ($0.0.groupId, $0.0.partition) < ($1.0.groupId, $1.0.partition) }
        let figures = entries.map { key, box -> (Key, [Int64]) in
            let highWatermark = topics.partition(key.partition.topic, key.partition.partition)?.highWatermark ?? 0
            return (key, box.withLockedValue { state -> [Int64] in
                let finished = state.records.reduce(Int64(0)) {
                    $0 + ($1.state == .acknowledged || $1.state == .archived ? 1 : 0)
                }
                let lag = max(0, highWatermark &- state.startOffset &- finished)
                return [Int64(state.acquiredCount), lag, state.redeliveries, state.archivedAtLimit]
            })
        }
        let families: [(String, String, String)] = [
            ("portask_share_partition_in_flight_records", "gauge", "Records of the share partition acquired now."),
            ("portask_share_partition_lag", "gauge", "Records up to the high watermark the share group has not finished."),
            ("portask_share_partition_redeliveries_total", "counter", "Deliveries of records beyond their first."),
            ("portask_share_partition_archived_records_total", "counter",
             "Records archived after reaching group.share.delivery.count.limit."),
        ]
        var text = ""
        for (index, (name, type, help)) in families.enumerated() {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (key, values) in figures {
                text += "\(name){group=\"\(Self.escapeLabel(key.groupId))\",topic=\"\(key.partition.topic)\","
                    + "partition=\"\(key.partition.partition)\"} \(values[index])\n"
            }
        }
        return text
    }

    /// A Prometheus label value: backslash, double quote and newline escaped.
    static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
