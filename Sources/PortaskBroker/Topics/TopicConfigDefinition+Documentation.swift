extension TopicConfigDefinition {
    /// What each topic config does in portaskd, returned by DescribeConfigs when documentation is asked for.
    public static let documentation: [String: String] = [
        "cleanup.policy": "delete: old segments are removed by retention.ms and retention.bytes. compact is accepted and stored; segments are not compacted yet.",
        "compression.type": "Compression of stored batches; producer stores batches as the producer compressed them.",
        "delete.retention.ms": "How long delete markers are kept on compacted topics (ms).",
        "file.delete.delay.ms": "Delay before a deleted segment's files are removed (ms); portaskd removes them at once.",
        "flush.messages": "Records appended between two fsyncs of the partition log.",
        "flush.ms": "Longest time (ms) an appended record may stay unflushed.",
        "index.interval.bytes": "Bytes appended between two offset index entries.",
        "max.message.bytes": "The largest record batch (after compression) the topic accepts; larger ones fail with MESSAGE_TOO_LARGE.",
        "message.timestamp.type": "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock.",
        "min.insync.replicas": "Replicas that must hold a write for acks=all; a single broker always has one.",
        "retention.bytes": "Largest size of a partition before its oldest segments are deleted; -1 for no limit.",
        "retention.ms": "How long (ms) a segment is kept after its newest record; -1 keeps segments forever.",
        "segment.bytes": "Size of a segment file before a new one is started.",
        "segment.index.bytes": "Size each segment's offset index is preallocated to.",
        "segment.ms": "Age (ms) after which the active segment is rolled even if not full.",
    ]
}
