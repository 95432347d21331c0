/// One broker configuration property, by Kafka's name, with its type, default and documentation.
/// The table drives parsing, `portaskd --help` and DescribeConfigs. Immutable; thread-safe.
public struct BrokerConfigDefinition: Sendable {
    /// Kafka's config types; `password` values are sensitive (DescribeConfigs never shows them).
    public enum ValueType: String, Sendable {
        case string, int, long, double, boolean, list, password
    }

    public var name: String
    public var type: ValueType
    /// The default as Kafka prints it; `nil` when there is none.
    public var defaultValue: String?
    public var documentation: String

    public init(_ name: String, _ type: ValueType, _ defaultValue: String?, _ documentation: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.documentation = documentation
    }

    /// Checks that `value` parses as this property's type; returns Kafka's message when it does not.
    public func validate(_ value: String) -> String? {
        let trimmed = value.trimmingWhitespace()
        switch type {
        case .int where Int32(trimmed) == nil:
            return "Invalid value \(value) for configuration \(name): Not a number of type INT"
        case .long where Int64(trimmed) == nil:
            return "Invalid value \(value) for configuration \(name): Not a number of type LONG"
        case .double where Double(trimmed) == nil:
            return "Invalid value \(value) for configuration \(name): Not a number of type DOUBLE"
        case .boolean where !["true", "false"].contains(trimmed.lowercased()):
            return "Invalid value \(value) for configuration \(name): Expected value to be either true or false"
        default:
            return nil
        }
    }

    /// Every broker property portaskd understands.
    public static let all: [BrokerConfigDefinition] = [
        .init("node.id", .int, "0", "The id of this broker (alias: broker.id)."),
        .init("broker.id", .int, nil, "Alias of node.id."),
        .init("listeners", .list, "PLAINTEXT://127.0.0.1:9092", "Where the broker listens: NAME://host:port."),
        .init("advertised.listeners", .list, nil,
              "The addresses given to clients in metadata; default: listeners (0.0.0.0 shown as 127.0.0.1)."),
        .init("listener.security.protocol.map", .list,
              "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
              "The security protocol of each listener name: NAME:PROTOCOL (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)."),
        .init("inter.broker.listener.name", .string, nil, "Reserved for replication; accepted, no effect yet."),
        .init("ssl.keystore.type", .string, "PEM", "Format of the key store; only PEM is served (Kafka's default is JKS)."),
        .init("ssl.keystore.location", .string, nil, "PEM file with the private key and the certificate chain of a TLS listener."),
        .init("ssl.keystore.key", .password, nil, "The private key in PEM, inline (instead of ssl.keystore.location)."),
        .init("ssl.keystore.certificate.chain", .string, nil, "The certificate chain in PEM, inline (with ssl.keystore.key)."),
        .init("ssl.key.password", .password, nil, "Password of an encrypted private key."),
        .init("ssl.truststore.type", .string, "PEM", "Format of the trust store; only PEM is served."),
        .init("ssl.truststore.location", .string, nil, "PEM file with the CA certificates client certificates are verified against."),
        .init("ssl.truststore.certificates", .password, nil, "The trusted CA certificates in PEM, inline."),
        .init("ssl.client.auth", .string, "none", "Client certificates: none, requested (verified when sent) or required."),
        .init("ssl.enabled.protocols", .list, "TLSv1.2,TLSv1.3", "TLS versions accepted (TLSv1.2, TLSv1.3)."),
        .init("ssl.protocol", .string, "TLSv1.3", "Accepted for compatibility; ssl.enabled.protocols decides."),
        .init("ssl.cipher.suites", .list, nil, "Cipher suites for TLS 1.2 by IANA name; default: the TLS library's secure set."),
        .init("ssl.principal.mapping.rules", .string, "DEFAULT",
              "Rules mapping a client certificate's subject to a user name: RULE:pattern/replacement/[LU], ..., DEFAULT."),
        .init("sasl.enabled.mechanisms", .list, "GSSAPI",
              "SASL mechanisms of SASL listeners: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 (GSSAPI, Kafka's default, is not served)."),
        .init("sasl.oauthbearer.jwks.endpoint.url", .string, nil,
              "OAUTHBEARER validates signed JWTs against the JSON Web Key Set at this file:// URL (RS256/384/512, ES256/384/512) instead of Kafka's unsecured development tokens."),
        .init("sasl.oauthbearer.expected.audience", .list, nil, "With JWT validation: the token's aud must contain one of these."),
        .init("sasl.oauthbearer.expected.issuer", .string, nil, "With JWT validation: the token's iss must equal this."),
        .init("sasl.oauthbearer.sub.claim.name", .string, "sub", "With JWT validation: the claim naming the principal."),
        .init("sasl.oauthbearer.scope.claim.name", .string, "scope", "With JWT validation: the claim holding the token's scope."),
        .init("sasl.oauthbearer.clock.skew.seconds", .int, "30", "With JWT validation: the clock difference allowed for exp, nbf."),
        .init("sasl.server.callback.handler.class", .string, nil,
              "Accepted for Kafka compatibility (OAuthBearerValidatorCallbackHandler); sasl.oauthbearer.jwks.endpoint.url selects JWT validation."),
        .init("connections.max.reauth.ms", .long, "0",
              "The longest SASL session (KIP-368) before the client must re-authenticate; told to clients in SaslAuthenticate, which re-authenticate in time; a connection used after its session expired is closed. 0: no limit. May be prefixed with listener.name.<l>.<mechanism>."),
        .init("scram.bootstrap.credentials", .password, nil,
              "SCRAM users created at start-up unless they already have a credential for the mechanism, in kafka-storage's --add-scram syntax: SCRAM-SHA-256=[name=alice,password=alice-secret];SCRAM-SHA-512=[name=bob,iterations=8192,salt=\"<base64>\",saltedpassword=\"<base64>\"]. Stored salted and hashed."),
        .init("authorizer.class.name", .string, "",
              "org.apache.kafka.metadata.authorizer.StandardAuthorizer enables ACLs (stored in the data directory); empty: no authorization."),
        .init("super.users", .string, nil, "Principals allowed everything, separated by semicolons: User:admin;User:ops."),
        .init("allow.everyone.if.no.acl.found", .boolean, "false", "Allow access to a resource that has no ACL at all."),
        .init("log.dirs", .list, nil, "The data directory (the first entry is used); default: log.dir."),
        .init("log.dir", .string, "./portask-data", "The data directory when log.dirs is not set."),
        .init("num.partitions", .int, "1", "Partitions of an auto-created topic or of a CreateTopics without a count."),
        .init("default.replication.factor", .int, "1", "Replication factor of auto-created topics (only 1 is served)."),
        .init("auto.create.topics.enable", .boolean, "true", "Create a topic when metadata or produce asks for it."),
        .init("socket.request.max.bytes", .int, "104857600", "The largest request frame accepted."),
        .init("queued.max.requests", .int, "500", "Requests handled at once per connection before it stops reading."),
        .init("queued.max.request.bytes", .long, "104857600",
              "Bytes of requests handled at once per connection before it stops reading; also the broker-wide pool for partially received requests."),
        .init("fetch.max.bytes", .int, "57671680", "The most record bytes one fetch response carries."),
        .init("max.connections", .int, "2147483647", "Connections the broker accepts at once; more are closed at once."),
        .init("max.connections.per.ip", .int, "2147483647", "Connections accepted at once from one IP address."),
        .init("max.partitions", .int, "0",
              "The most partitions the broker holds; 0: a quarter of the open-file limit (RLIMIT_NOFILE), at least 1000."),
        .init("max.request.partition.size.limit", .int, "2000",
              "The most partitions one DescribeTopicPartitions response describes (the request may ask for fewer)."),
        .init("quota.window.num", .int, "11", "Windows over which client quota rates are measured (at least 2)."),
        .init("quota.window.size.seconds", .int, "1", "Length of one client quota window in seconds."),
        .init("message.max.bytes", .int, "1048588", "The largest record batch accepted (topic: max.message.bytes)."),
        .init("log.segment.bytes", .int, "1073741824", "Segment size that triggers a roll (topic: segment.bytes)."),
        .init("log.roll.ms", .long, nil, "Segment age that triggers a roll (topic: segment.ms); default: log.roll.hours."),
        .init("log.roll.hours", .int, "168", "Segment age in hours that triggers a roll."),
        .init("log.retention.ms", .long, nil, "Time records are kept (topic: retention.ms); -1 keeps them forever."),
        .init("log.retention.minutes", .int, nil, "Retention in minutes when log.retention.ms is not set."),
        .init("log.retention.hours", .int, "168", "Retention in hours when neither of the above is set."),
        .init("log.retention.bytes", .long, "-1", "Partition size that triggers deletion of old segments (topic: retention.bytes)."),
        .init("log.retention.check.interval.ms", .long, "300000", "How often retention runs."),
        .init("log.index.interval.bytes", .int, "4096", "Bytes between offset-index entries (topic: index.interval.bytes)."),
        .init("log.index.size.max.bytes", .int, "10485760", "Maximum index file size (topic: segment.index.bytes)."),
        .init("log.flush.interval.messages", .long, "9223372036854775807", "Messages between fsyncs (topic: flush.messages)."),
        .init("log.flush.interval.ms", .long, nil, "Time between fsyncs (topic: flush.ms)."),
        .init("log.message.timestamp.type", .string, "CreateTime", "CreateTime or LogAppendTime (topic: message.timestamp.type)."),
        .init("log.cleanup.policy", .list, "delete", "delete or compact (topic: cleanup.policy)."),
        .init("compression.type", .string, "producer", "Compression of stored batches; producer keeps the producer's."),
        .init("log.roll.jitter.ms", .long, nil, "Random jitter subtracted from segment rolls (topic: segment.jitter.ms); default: log.roll.jitter.hours. Accepted, no effect yet."),
        .init("log.roll.jitter.hours", .int, "0", "Segment roll jitter in hours. Accepted, no effect yet."),
        .init("log.segment.delete.delay.ms", .long, "60000", "Delay before deleted segment files are removed (topic: file.delete.delay.ms). Accepted, no effect yet."),
        .init("log.preallocate", .boolean, "false", "Preallocate segment files (topic: preallocate). Accepted, no effect yet."),
        .init("log.cleaner.enable", .boolean, "true", "Run the log cleaner, which compacts topics with cleanup.policy=compact."),
        .init("log.cleaner.threads", .int, "1", "Cleaner threads (each cleans one log at a time)."),
        .init("log.cleaner.backoff.ms", .long, "15000", "Sleep of a cleaner thread when no log needs cleaning."),
        .init("log.cleaner.dedupe.buffer.size", .long, "134217728", "Offset map memory of all cleaner threads together (bytes); a round that fills it cleans up to what it mapped."),
        .init("log.cleaner.io.buffer.load.factor", .double, "0.9", "Fill factor of the cleaner's offset map."),
        .init("log.cleaner.io.buffer.size", .int, "524288", "I/O buffer size of the cleaner. Accepted, no effect: the cleaner reads mapped segments."),
        .init("log.cleaner.io.max.bytes.per.second", .double, "1.7976931348623157E308", "Read plus write rate limit of all cleaner threads together (bytes/s), as in Kafka; cleaners also yield to produce and fetch traffic below it."),
        .init("log.cleaner.delete.retention.ms", .long, "86400000", "Delete markers kept on compacted topics (topic: delete.retention.ms)."),
        .init("log.cleaner.min.compaction.lag.ms", .long, "0", "Shortest time a record stays uncompacted (topic: min.compaction.lag.ms)."),
        .init("log.cleaner.max.compaction.lag.ms", .long, "9223372036854775807", "Longest time a record stays uncompacted (topic: max.compaction.lag.ms)."),
        .init("log.cleaner.min.cleanable.ratio", .double, "0.5", "Dirty share that makes a compacted log cleanable (topic: min.cleanable.dirty.ratio)."),
        .init("log.message.timestamp.before.max.ms", .long, "9223372036854775807", "How far a CreateTime timestamp may lie in the past (topic: message.timestamp.before.max.ms). Accepted, no effect yet."),
        .init("log.message.timestamp.after.max.ms", .long, "3600000", "How far a CreateTime timestamp may lie in the future (topic: message.timestamp.after.max.ms). Accepted, no effect yet."),
        .init("log.local.retention.ms", .long, "-2", "Local retention with remote storage (topic: local.retention.ms). Accepted, no effect yet."),
        .init("log.local.retention.bytes", .long, "-2", "Local size limit with remote storage (topic: local.retention.bytes). Accepted, no effect yet."),
        .init("compression.gzip.level", .int, "-1", "gzip level of stored batches (topic: compression.gzip.level). Accepted, no effect yet."),
        .init("compression.lz4.level", .int, "9", "lz4 level of stored batches (topic: compression.lz4.level). Accepted, no effect yet."),
        .init("compression.zstd.level", .int, "3", "zstd level of stored batches (topic: compression.zstd.level). Accepted, no effect yet."),
        .init("unclean.leader.election.enable", .boolean, "false", "Out-of-sync replicas may become leader (topic: unclean.leader.election.enable). Accepted, no effect yet."),
        .init("producer.id.expiration.ms", .long, "86400000",
              "An idempotent producer idle this long (ms since its last batch's timestamp) is forgotten by a partition."),
        .init("min.insync.replicas", .int, "1", "Replicas that must acknowledge acks=all (only 1 is served)."),
        .init("offsets.retention.minutes", .int, "10080", "How long committed offsets of empty groups are kept."),
        .init("group.initial.rebalance.delay.ms", .int, "3000", "Delay of the first rebalance of a new group."),
        .init("offsets.topic.num.partitions", .int, "50", "Partitions of __consumer_offsets (fixed once created)."),
        .init("transaction.state.log.num.partitions", .int, "50", "Partitions of __transaction_state (fixed once created)."),
        .init("transaction.max.timeout.ms", .int, "900000",
              "The longest transaction timeout a producer may ask for (InitProducerId); longer gets INVALID_TRANSACTION_TIMEOUT."),
        .init("transactional.id.expiration.ms", .int, "604800000",
              "A transactional id without an open transaction, idle this long, is forgotten (checked with the timeout check)."),
        .init("transaction.abort.timed.out.transaction.cleanup.interval.ms", .int, "10000",
              "How often transactions open past their timeout are aborted (fencing their producer)."),
        .init("test.transaction.marker.delay.ms", .long, "0",
              "Testing only (crash tests): pause this long between a transaction's first marker and the rest."),
        .init("offsets.topic.segment.bytes", .int, "104857600", "segment.bytes of __consumer_offsets when it is created (at least 1048576)."),
        .init("offsets.retention.check.interval.ms", .long, "600000", "How often expired group offsets are removed."),
        .init("offset.metadata.max.bytes", .int, "4096", "The largest metadata string of an offset commit."),
        .init("group.min.session.timeout.ms", .int, "6000", "The smallest session timeout a group member may use."),
        .init("group.max.session.timeout.ms", .int, "1800000", "The largest session timeout a group member may use."),
        .init("group.consumer.session.timeout.ms", .int, "45000", "Session timeout of consumer-protocol group members."),
        .init("group.consumer.heartbeat.interval.ms", .int, "5000", "Heartbeat interval of consumer-protocol group members."),
        .init("group.max.size", .int, "2147483647", "The most members a classic group may have."),
        .init("group.consumer.max.size", .int, "2147483647", "The most members a consumer-protocol group may have."),
        .init("group.max.count", .int, "100000",
              "Portask's own: the most groups the coordinator keeps; past it, a new group gets COORDINATOR_NOT_AVAILABLE."),
        .init("group.share.session.timeout.ms", .int, "45000", "Session timeout of share group members."),
        .init("group.share.heartbeat.interval.ms", .int, "5000", "Heartbeat interval of share group members."),
        .init("group.share.max.size", .int, "200", "The most members a share group may have."),
        .init("group.share.record.lock.duration.ms", .int, "30000",
              "How long a share consumer holds acquired records before they become available again."),
        .init("group.share.delivery.count.limit", .int, "5",
              "Deliveries of a record to share consumers before it is archived (at least 2)."),
        .init("group.share.partition.max.record.locks", .int, "2000",
              "The most in-flight records of one share partition (100 to 10000)."),
        .init("group.share.max.share.sessions", .int, "2000", "The most share sessions the broker keeps."),
        .init("group.share.min.record.lock.duration.ms", .int, "15000",
              "The smallest share.record.lock.duration.ms a share group's config may set."),
        .init("group.share.max.record.lock.duration.ms", .int, "60000",
              "The largest share.record.lock.duration.ms a share group's config may set."),
        .init("group.share.min.heartbeat.interval.ms", .int, "5000",
              "The smallest share.heartbeat.interval.ms a share group's config may set."),
        .init("group.share.max.heartbeat.interval.ms", .int, "15000",
              "The largest share.heartbeat.interval.ms a share group's config may set."),
        .init("group.share.min.session.timeout.ms", .int, "45000",
              "The smallest share.session.timeout.ms a share group's config may set."),
        .init("group.share.max.session.timeout.ms", .int, "60000",
              "The largest share.session.timeout.ms a share group's config may set."),
        .init("share.coordinator.state.topic.num.partitions", .int, "50",
              "Partitions of __share_group_state, where share partitions' delivery states are kept (fixed once the topic exists)."),
        .init("share.coordinator.snapshot.update.records.per.snapshot", .int, "500",
              "ShareUpdate records of a share partition between two of its ShareSnapshot records in __share_group_state (0-500)."),
        .init("group.share.auto.offset.reset", .string, "latest",
              "Portask's own: where share groups start reading a partition (latest or earliest) unless a group sets Kafka's group config share.auto.offset.reset."),
        .init("metrics.listener", .string, nil, "Prometheus metrics endpoint, e.g. http://127.0.0.1:9404; off when unset."),
        .init("metadata.etcd.endpoints", .list, nil,
              "Portask's own: etcd client URLs (http://host:port,...) of the cluster metadata store; unset: single node."),
        .init("metadata.etcd.prefix", .string, "/portask/", "Portask's own: the etcd key prefix of this cluster's metadata."),
        .init("broker.session.timeout.ms", .long, "9000",
              "How long a broker stays registered without renewing its session (the etcd lease TTL, rounded up to seconds)."),
        .init("broker.heartbeat.interval.ms", .long, "2000", "How often a broker renews its session."),
    ]

    public static let byName: [String: BrokerConfigDefinition] = Dictionary(
        all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
}
