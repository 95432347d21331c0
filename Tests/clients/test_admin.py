"""Admin and config APIs of portaskd driven by confluent-kafka's AdminClient and kafka-python's KafkaAdminClient."""
import time

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                   NewPartitions, NewTopic)

TIMEOUT = 10


def admin_for(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000})


def wait(futures):
    """Results of a dict of futures; raises the KafkaException of the first failure."""
    return {key: future.result(timeout=TIMEOUT) for key, future in futures.items()}


def error_of(future):
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=TIMEOUT)
    return raised.value.args[0]


def topics_of(admin):
    return admin.list_topics(timeout=TIMEOUT).topics


def describe_topic(admin, name):
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    return admin.describe_configs([resource], request_timeout=TIMEOUT)[resource].result(timeout=TIMEOUT)


def produce(broker, topic, value, partition=0, **config):
    """Produces one message; returns the delivery error (None on success)."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.max.bytes": 10_000_000,
                         "message.timeout.ms": 10000, **config})
    outcome = {}
    producer.produce(topic, value=value, partition=partition,
                     on_delivery=lambda error, message: outcome.setdefault("error", error))
    producer.flush(TIMEOUT)
    assert "error" in outcome, "delivery report not received"
    return outcome["error"]


def test_confluent_admin_topic_lifecycle(broker):
    admin = admin_for(broker)
    # validate_only creates nothing.
    wait(admin.create_topics([NewTopic("orders", 3, 1, config={"retention.ms": "3600000"})],
                             validate_only=True, request_timeout=TIMEOUT))
    assert "orders" not in topics_of(admin)

    wait(admin.create_topics([NewTopic("orders", 3, 1, config={"retention.ms": "3600000", "cleanup.policy": "delete"})],
                             request_timeout=TIMEOUT))
    listed = topics_of(admin)
    assert sorted(listed["orders"].partitions) == [0, 1, 2]

    duplicate = error_of(admin.create_topics([NewTopic("orders", 1, 1)], request_timeout=TIMEOUT)["orders"])
    assert duplicate.code() == KafkaError.TOPIC_ALREADY_EXISTS
    assert "already exists" in duplicate.str()

    invalid = admin.create_topics([NewTopic("no-partitions", 0, 1), NewTopic("bad-name!", 1, 1),
                                   NewTopic("too-replicated", 1, 3),
                                   NewTopic("bad-config", 1, 1, config={"retention.ms": "soon"}),
                                   NewTopic("unknown-config", 1, 1, config={"no.such.config": "1"})],
                                  request_timeout=TIMEOUT)
    assert error_of(invalid["no-partitions"]).code() == KafkaError.INVALID_PARTITIONS
    assert error_of(invalid["bad-name!"]).code() == KafkaError.TOPIC_EXCEPTION
    assert error_of(invalid["too-replicated"]).code() == KafkaError.INVALID_REPLICATION_FACTOR
    bad_config = error_of(invalid["bad-config"])
    assert bad_config.code() == KafkaError.INVALID_CONFIG
    assert "Invalid value soon for configuration retention.ms" in bad_config.str()
    assert error_of(invalid["unknown-config"]).code() == KafkaError.INVALID_CONFIG
    listed = topics_of(admin)
    assert not {"no-partitions", "bad-name!", "too-replicated", "bad-config", "unknown-config"} & set(listed)

    wait(admin.create_partitions([NewPartitions("orders", 5)], validate_only=True, request_timeout=TIMEOUT))
    assert len(topics_of(admin)["orders"].partitions) == 3
    wait(admin.create_partitions([NewPartitions("orders", 5)], request_timeout=TIMEOUT))
    assert sorted(topics_of(admin)["orders"].partitions) == [0, 1, 2, 3, 4]
    shrink = error_of(admin.create_partitions([NewPartitions("orders", 2)], request_timeout=TIMEOUT)["orders"])
    assert shrink.code() == KafkaError.INVALID_PARTITIONS
    assert "would not be an increase" in shrink.str()

    wait(admin.delete_topics(["orders"], request_timeout=TIMEOUT))
    assert "orders" not in topics_of(admin)
    missing = error_of(admin.delete_topics(["orders"], request_timeout=TIMEOUT)["orders"])
    assert missing.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_confluent_admin_describes_topic_and_broker_configs_with_sources(broker_factory):
    broker = broker_factory(log_retention_hours="48")
    admin = admin_for(broker)
    wait(admin.create_topics([NewTopic("configured", 1, 1, config={"max.message.bytes": "200000"})],
                             request_timeout=TIMEOUT))
    configs = describe_topic(admin, "configured")
    assert configs["max.message.bytes"].value == "200000"
    assert configs["max.message.bytes"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert configs["retention.ms"].value == str(48 * 3_600_000)
    assert configs["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert not configs["retention.ms"].is_read_only

    broker_resource = ConfigResource(ConfigResource.Type.BROKER, "0")
    described = admin.describe_configs([broker_resource], request_timeout=TIMEOUT)[broker_resource].result(timeout=TIMEOUT)
    assert described["log.retention.hours"].value == "48"
    assert described["log.retention.hours"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert described["num.partitions"].value == "1"
    assert described["num.partitions"].source == ConfigSource.DEFAULT_CONFIG.value
    assert described["log.dirs"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert described["num.partitions"].is_read_only
    # librdkafka asks for synonyms (and keys them by name, so the static entry is overwritten by the default).
    synonyms = described["log.retention.hours"].synonyms
    assert [(entry.name, entry.source) for entry in synonyms.values()] == [
        ("log.retention.hours", ConfigSource.DEFAULT_CONFIG.value)]
    topic_synonyms = configs["max.message.bytes"].synonyms
    assert [(entry.name, entry.value, entry.source) for entry in topic_synonyms.values()] == [
        ("max.message.bytes", "200000", ConfigSource.DYNAMIC_TOPIC_CONFIG.value),
        ("message.max.bytes", "1048588", ConfigSource.DEFAULT_CONFIG.value)]

    unknown = ConfigResource(ConfigResource.Type.TOPIC, "absent")
    error = error_of(admin.describe_configs([unknown], request_timeout=TIMEOUT)[unknown])
    assert error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_confluent_admin_alters_configs_and_describe_shows_them(broker):
    admin = admin_for(broker)
    wait(admin.create_topics([NewTopic("altered", 1, 1)], request_timeout=TIMEOUT))

    # Legacy AlterConfigs replaces the whole set of overrides.
    resource = ConfigResource(ConfigResource.Type.TOPIC, "altered", set_config={"retention.ms": "120000"})
    wait(admin.alter_configs([resource], request_timeout=TIMEOUT))
    configs = describe_topic(admin, "altered")
    assert configs["retention.ms"].value == "120000"
    assert configs["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value

    # Incremental SET, APPEND and DELETE.
    incremental = ConfigResource(ConfigResource.Type.TOPIC, "altered", incremental_configs=[
        ConfigEntry("retention.ms", "7200000", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
        ConfigEntry("segment.ms", None, incremental_operation=AlterConfigOpType.DELETE),
    ])
    wait(admin.incremental_alter_configs([incremental], request_timeout=TIMEOUT))
    configs = describe_topic(admin, "altered")
    assert configs["retention.ms"].value == "7200000"
    assert configs["cleanup.policy"].value == "delete,compact"

    subtract = ConfigResource(ConfigResource.Type.TOPIC, "altered", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SUBTRACT),
        ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
    ])
    wait(admin.incremental_alter_configs([subtract], request_timeout=TIMEOUT))
    configs = describe_topic(admin, "altered")
    assert configs["cleanup.policy"].value == "delete"
    assert configs["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    # validate_only changes nothing; invalid values and APPEND to a non-list config fail with INVALID_CONFIG.
    trial = ConfigResource(ConfigResource.Type.TOPIC, "altered", incremental_configs=[
        ConfigEntry("retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)])
    wait(admin.incremental_alter_configs([trial], validate_only=True, request_timeout=TIMEOUT))
    assert describe_topic(admin, "altered")["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    invalid = ConfigResource(ConfigResource.Type.TOPIC, "altered", incremental_configs=[
        ConfigEntry("retention.ms", "-5", incremental_operation=AlterConfigOpType.SET)])
    error = error_of(admin.incremental_alter_configs([invalid], request_timeout=TIMEOUT)[invalid])
    assert error.code() == KafkaError.INVALID_CONFIG and "Value must be at least -1" in error.str()
    append = ConfigResource(ConfigResource.Type.TOPIC, "altered", incremental_configs=[
        ConfigEntry("retention.ms", "5", incremental_operation=AlterConfigOpType.APPEND)])
    error = error_of(admin.incremental_alter_configs([append], request_timeout=TIMEOUT)[append])
    assert error.code() == KafkaError.INVALID_CONFIG and "not LIST" in error.str()

    # Broker configs are static: the change is refused with a message.
    broker_change = ConfigResource(ConfigResource.Type.BROKER, "0", incremental_configs=[
        ConfigEntry("log.retention.ms", "1000", incremental_operation=AlterConfigOpType.SET)])
    error = error_of(admin.incremental_alter_configs([broker_change], request_timeout=TIMEOUT)[broker_change])
    assert error.code() == KafkaError.INVALID_REQUEST and "dynamically" in error.str()
    assert "altered" in topics_of(admin)


def test_confluent_admin_creates_topic_with_every_kafka_topic_config_kind(broker_factory):
    """What Kafka Streams (versioned state stores), MirrorMaker 2 and config-sync tools send at CreateTopics."""
    broker = broker_factory(log_cleaner_min_compaction_lag_ms="1000")
    admin = admin_for(broker)
    configs = {"cleanup.policy": "compact", "min.compaction.lag.ms": "86400000",
               "max.compaction.lag.ms": "604800000", "min.cleanable.dirty.ratio": "0.1",
               "segment.jitter.ms": "1000", "message.timestamp.before.max.ms": "3600000",
               "remote.storage.enable": "false", "preallocate": "true",
               "leader.replication.throttled.replicas": "*"}
    wait(admin.create_topics([NewTopic("store-changelog", 1, 1, config=configs)], request_timeout=TIMEOUT))
    described = describe_topic(admin, "store-changelog")
    assert len(described) == 33
    for name, value in configs.items():
        assert described[name].value == value, name
        assert described[name].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value, name
    assert described["delete.retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert described["unclean.leader.election.enable"].value == "false"

    plain = NewTopic("plain", 1, 1)
    wait(admin.create_topics([plain], request_timeout=TIMEOUT))
    lag = describe_topic(admin, "plain")["min.compaction.lag.ms"]
    assert (lag.value, lag.source) == ("1000", ConfigSource.STATIC_BROKER_CONFIG.value)

    bad = admin.create_topics([NewTopic("bad-ratio", 1, 1, config={"min.cleanable.dirty.ratio": "1.5"}),
                               NewTopic("tiered", 1, 1, config={"remote.storage.enable": "true"})],
                              request_timeout=TIMEOUT)
    ratio = error_of(bad["bad-ratio"])
    assert ratio.code() == KafkaError.INVALID_CONFIG and "Value must be no more than 1" in ratio.str()
    assert error_of(bad["tiered"]).code() == KafkaError.INVALID_CONFIG
    # The change is validated as Kafka does, and the stored value survives a restart.
    change = ConfigResource(ConfigResource.Type.TOPIC, "store-changelog", incremental_configs=[
        ConfigEntry("compression.zstd.level", "30", incremental_operation=AlterConfigOpType.SET)])
    error = error_of(admin.incremental_alter_configs([change], request_timeout=TIMEOUT)[change])
    assert error.code() == KafkaError.INVALID_CONFIG and "Value must be no more than 22" in error.str()
    broker.restart()
    described = describe_topic(admin_for(broker), "store-changelog")
    assert described["min.cleanable.dirty.ratio"].value == "0.1"


def test_altered_max_message_bytes_applies_to_the_next_produce(broker):
    admin = admin_for(broker)
    wait(admin.create_topics([NewTopic("limited", 1, 1)], request_timeout=TIMEOUT))
    assert produce(broker, "limited", b"x" * 50_000) is None
    lower = ConfigResource(ConfigResource.Type.TOPIC, "limited", incremental_configs=[
        ConfigEntry("max.message.bytes", "10000", incremental_operation=AlterConfigOpType.SET)])
    wait(admin.incremental_alter_configs([lower], request_timeout=TIMEOUT))
    error = produce(broker, "limited", b"x" * 50_000)
    assert error is not None and error.code() == KafkaError.MSG_SIZE_TOO_LARGE
    assert produce(broker, "limited", b"small") is None
    # A restart keeps the lowered limit.
    broker.restart()
    error = produce(broker, "limited", b"x" * 50_000)
    assert error is not None and error.code() == KafkaError.MSG_SIZE_TOO_LARGE


def test_confluent_admin_delete_records_and_describe_cluster(broker):
    admin = admin_for(broker)
    wait(admin.create_topics([NewTopic("trimmed", 1, 1)], request_timeout=TIMEOUT))
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for index in range(10):
        producer.produce("trimmed", value=b"m%d" % index, partition=0)
    assert producer.flush(TIMEOUT) == 0

    [result] = wait(admin.delete_records([TopicPartition("trimmed", 0, 4)], request_timeout=TIMEOUT)).values()
    assert result.low_watermark == 4
    low, high = _watermarks(broker, "trimmed")
    assert (low, high) == (4, 10)
    [result] = wait(admin.delete_records([TopicPartition("trimmed", 0, -1)], request_timeout=TIMEOUT)).values()
    assert result.low_watermark == 10
    [future] = admin.delete_records([TopicPartition("trimmed", 0, 50)], request_timeout=TIMEOUT).values()
    assert error_of(future).code() == KafkaError.OFFSET_OUT_OF_RANGE

    cluster = admin.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert [node.id for node in cluster.nodes] == [0]
    assert cluster.nodes[0].port == broker.port
    assert cluster.controller.id == 0
    meta = dict(line.split("=", 1) for line in (broker.data_dir / "meta.properties").read_text().splitlines()
                if "=" in line and not line.startswith("#"))
    assert cluster.cluster_id == meta["cluster.id"]
    assert "trimmed" in topics_of(admin)


def _watermarks(broker, topic):
    from confluent_kafka import Consumer
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "watermarks"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT)
    finally:
        consumer.close()


def test_kafka_python_admin_creates_describes_and_deletes(broker):
    from kafka.admin import ConfigResource as KPResource, ConfigResourceType, KafkaAdminClient, NewTopic as KPTopic
    from kafka.errors import TopicAlreadyExistsError
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([KPTopic("kp-admin", 2, 1, topic_configs={"retention.ms": "60000"})], timeout_ms=10000)
        assert "kp-admin" in admin.list_topics()
        with pytest.raises(TopicAlreadyExistsError):
            admin.create_topics([KPTopic("kp-admin", 2, 1)], timeout_ms=10000)
        described = admin.describe_configs([KPResource(ConfigResourceType.TOPIC, "kp-admin")])
        modified = described["topic"]["kp-admin"]
        assert set(modified) == {"retention.ms"} and modified["retention.ms"]["value"] == "60000"
        everything = admin.describe_configs([KPResource(ConfigResourceType.TOPIC, "kp-admin")], config_filter="all")
        assert everything["topic"]["kp-admin"]["segment.bytes"]["value"] == "1073741824"
        broker_configs = admin.describe_configs([KPResource(ConfigResourceType.BROKER, "0")], config_filter="all")
        assert broker_configs["broker"]["0"]["num.partitions"]["value"] == "1"
        admin.delete_topics(["kp-admin"], timeout_ms=10000)
        deadline = time.time() + 5
        while "kp-admin" in admin.list_topics() and time.time() < deadline:
            time.sleep(0.1)
        assert "kp-admin" not in admin.list_topics()
    finally:
        admin.close()


def test_kafka_python_admin_log_dirs_cluster_partitions_and_records(broker):
    from kafka import KafkaProducer, TopicPartition as KPPartition
    from kafka.admin import KafkaAdminClient, NewPartitions as KPPartitions, NewTopic as KPTopic
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        admin.create_topics([KPTopic("kp-dirs", 2, 1)], timeout_ms=10000)
        # Idempotence needs InitProducerId, which this test does not depend on.
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000, enable_idempotence=False)
        sent = [producer.send("kp-dirs", value=b"v%d" % index, partition=1) for index in range(5)]
        producer.flush(timeout=TIMEOUT)
        assert [future.get(timeout=TIMEOUT).offset for future in sent] == [0, 1, 2, 3, 4]
        producer.close(timeout=TIMEOUT)

        [described] = admin.describe_log_dirs()
        [log_dir] = described["log_dirs"]
        assert log_dir["error_code"] == 0 and log_dir["log_dir"] == str(broker.data_dir.resolve())
        assert log_dir["total_bytes"] > 0 and log_dir["usable_bytes"] > 0
        [topic] = [topic for topic in log_dir["topics"] if topic["name"] == "kp-dirs"]
        sizes = {partition["partition_index"]: partition["partition_size"] for partition in topic["partitions"]}
        assert sizes[0] == 0 and sizes[1] > 0

        cluster = admin.describe_cluster()
        assert cluster["controller_id"] == 0 and [b["port"] for b in cluster["brokers"]] == [broker.port]

        admin.create_partitions({"kp-dirs": KPPartitions(3)})
        assert admin.describe_topics(["kp-dirs"])[0]["partitions"].__len__() == 3
        deleted = admin.delete_records({KPPartition("kp-dirs", 1): 3})
        assert deleted[KPPartition("kp-dirs", 1)]["low_watermark"] == 3
    finally:
        admin.close()


def test_librdkafka_validates_a_leader_epoch_with_offset_for_leader_epoch(broker):
    import logging
    from confluent_kafka import Consumer
    for index in range(5):
        assert produce(broker, "epochs", b"v%d" % index) is None

    class Collect(logging.Handler):
        lines = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    logger = logging.getLogger("librdkafka-epochs")
    logger.setLevel(logging.DEBUG)
    collect = Collect()
    logger.addHandler(collect)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "epochs", "enable.auto.commit": False,
                         "debug": "fetch,topic", "logger": logger})
    try:
        # A position with a leader epoch makes librdkafka check it with OffsetForLeaderEpoch before fetching.
        consumer.assign([TopicPartition("epochs", 0, 2, leader_epoch=0)])
        received = []
        deadline = time.time() + TIMEOUT
        while len(received) < 3 and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                received.append((message.offset(), message.value()))
        assert received == [(2, b"v2"), (3, b"v3"), (4, b"v4")]
        assert any("validation succeeded: broker end offset 5" in line for line in collect.lines), collect.lines[-20:]
    finally:
        consumer.close()
        logger.removeHandler(collect)
