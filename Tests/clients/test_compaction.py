"""Log compaction seen by real clients: confluent-kafka produces updates and tombstones of a few keys into a
compacted topic; after the cleaner ran, a consumer from the beginning sees every live key once with its latest
value and headers, in increasing offsets, tombstoned keys gone after delete.retention.ms; a restart keeps it; the
idempotent producer keeps producing across cleans."""
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "compacted-updates"
KEYS = [f"key-{index}" for index in range(12)]
DELETED = KEYS[:3]


def consume_all(bootstrap, topic):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-reader",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        records = []
        deadline = time.time() + 20
        while time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                if records and records[-1][0] >= high - 1:
                    break
                continue
            records.append((message.offset(), message.key(), message.value(), message.headers()))
            if message.offset() >= high - 1:
                break
        return records
    finally:
        consumer.close()


def check(records, latest, tombstones_gone):
    offsets = [offset for offset, _, _, _ in records]
    assert offsets == sorted(set(offsets)), "offsets must increase"
    by_key = {}
    for _, key, value, headers in records:
        by_key.setdefault(key.decode(), []).append((value, headers))
    for key, value in latest.items():
        if value is None:
            if tombstones_gone:
                assert key not in by_key, f"{key} should be gone"
            continue
        if key == "marker":
            # Written last: its newest records sit in the active segment, which is never cleaned.
            assert by_key[key][-1] == (value, [("final", b"yes")])
            continue
        assert by_key.get(key) == [(value, [("final", b"yes")])], f"{key}: {by_key.get(key)}"
    return by_key


def wait_until(condition, timeout=40):
    deadline = time.time() + timeout
    while True:
        try:
            if condition():
                return
        except AssertionError:
            if time.time() > deadline:
                raise
        time.sleep(0.5)


def test_compacted_topic_keeps_the_latest_value_per_key(broker_factory):
    broker = broker_factory(log_cleaner_backoff_ms="200")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    config = {"cleanup.policy": "compact", "segment.bytes": "1048576", "segment.ms": "500",
              "min.cleanable.dirty.ratio": "0.01", "delete.retention.ms": "2000"}
    for future in admin.create_topics([NewTopic(TOPIC, 1, 1, config=config)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "linger.ms": 5})
    latest = {}
    padding = b"x" * 1000
    for round_ in range(120):
        for key in KEYS:
            value = f"{key}-{round_}".encode() + padding
            final = round_ == 119
            producer.produce(TOPIC, key=key.encode(), value=value, headers=[("final", b"yes")] if final else None)
            latest[key] = value
        if round_ % 30 == 0:
            producer.flush(10)
            time.sleep(0.6)  # lets segment.ms roll segments
    for key in DELETED:
        producer.produce(TOPIC, key=key.encode(), value=None)
        latest[key] = None
    producer.flush(10)
    time.sleep(0.6)
    # Rolls the segment holding the last updates (segment.ms), so the cleaner may clean all of them.
    producer.produce(TOPIC, key=b"marker", value=b"1", headers=[("final", b"yes")])
    producer.flush(10)
    latest["marker"] = b"1"

    def cleaned():
        records = consume_all(broker.bootstrap, TOPIC)
        by_key = check(records, latest, tombstones_gone=False)
        assert len(records) <= len(KEYS) + 2, f"{len(records)} records"
        assert all(by_key[key] == [(None, None)] for key in DELETED)
        return True

    wait_until(cleaned)
    # After delete.retention.ms past their horizon the tombstones go, at the next round (new dirty data).
    time.sleep(2.5)
    producer.produce(TOPIC, key=b"marker", value=b"2", headers=[("final", b"yes")])
    producer.flush(10)
    time.sleep(0.6)
    producer.produce(TOPIC, key=b"marker", value=b"3", headers=[("final", b"yes")])
    producer.flush(10)  # the idempotent producer goes on across cleans: no OUT_OF_ORDER_SEQUENCE_NUMBER
    latest["marker"] = b"3"

    def tombstones_gone():
        records = consume_all(broker.bootstrap, TOPIC)
        by_key = check(records, latest, tombstones_gone=True)
        assert set(by_key) == set(KEYS[3:]) | {"marker"}
        return True

    wait_until(tombstones_gone)
    broker.restart()
    records = consume_all(broker.bootstrap, TOPIC)
    check(records, latest, tombstones_gone=True)
    assert (broker.data_dir / "cleaner-offset-checkpoint").exists()


def test_consumer_offsets_are_compacted(broker_factory):
    broker = broker_factory(log_cleaner_backoff_ms="200", offsets_topic_num_partitions="1",
                            offsets_topic_segment_bytes="1048576")
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    producer.produce("committed", value=b"v")
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "committer",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition("committed", 0, 0)])
        metadata = "m" * 400
        for index in range(3000):
            consumer.commit(offsets=[TopicPartition("committed", 0, 1, metadata=metadata)], asynchronous=False)
    finally:
        consumer.close()
    partition = broker.data_dir / "__consumer_offsets-0"

    def small():
        size = sum(path.stat().st_size for path in partition.glob("*.log"))
        assert size < 1_048_576 + 100_000, size
        return True

    wait_until(small)
    broker.restart()
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "committer"})
    try:
        committed = consumer.committed([TopicPartition("committed", 0)], timeout=10)
        assert committed[0].offset == 1
    finally:
        consumer.close()


def read_partition(bootstrap, topic, isolation):
    """(key, value) of every record from the start of partition 0 read with `isolation`, up to its end."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time()}",
                         "isolation.level": isolation, "enable.auto.commit": False,
                         "enable.partition.eof": True})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        records = []
        deadline = time.time() + 20
        while time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    break
                continue
            records.append((message.offset(), message.key(), message.value()))
        offsets = [offset for offset, _, _ in records]
        assert offsets == sorted(set(offsets)), "offsets must increase"
        return [(key, value) for _, key, value in records]
    finally:
        consumer.close()


def test_cleaner_removes_aborted_transactions_and_keeps_committed_values(broker_factory):
    broker = broker_factory(log_cleaner_backoff_ms="200", **{"transaction.state.log.num.partitions": 1,
                                                             "offsets.topic.num.partitions": 1})
    topic = "compacted-transactions"
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    config = {"cleanup.policy": "compact", "segment.ms": "500", "min.cleanable.dirty.ratio": "0.01",
              "delete.retention.ms": "1000"}
    for future in admin.create_topics([NewTopic(topic, 1, 1, config=config)]).values():
        future.result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "compacting-writer",
                         "linger.ms": 5})
    producer.init_transactions(30)
    keys = [f"k{index}".encode() for index in range(8)]
    committed = {}
    for round_ in range(7):
        producer.begin_transaction()
        commit = round_ % 2 == 0
        for key in keys:
            producer.produce(topic, key=key, value=b"%s-%d" % (b"committed" if commit else b"aborted", round_))
        if commit:
            producer.commit_transaction(30)
            committed.update({key: b"committed-%d" % round_ for key in keys})
        else:
            for index in range(3):
                producer.produce(topic, key=b"ghost-%d" % index, value=b"aborted")
            producer.flush(10)  # in the log before the abort (an abort purges what is still queued)
            producer.abort_transaction(30)
        time.sleep(0.6)  # segment.ms rolls a segment per transaction
    # A later record rolls the segment holding the last transaction, so all of them are cleanable.
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    plain.produce(topic, key=b"marker", value=b"1")
    plain.flush(10)
    committed[b"marker"] = b"1"

    def latest(records):
        view = {}
        for key, value in records:
            view[key] = value
        return view

    # Before cleaning, read_committed already sees exactly the committed values.
    assert latest(read_partition(broker.bootstrap, topic, "read_committed")) == committed

    def cleaned():
        uncommitted = read_partition(broker.bootstrap, topic, "read_uncommitted")
        assert not any(value.startswith(b"aborted") for _, value in uncommitted), uncommitted
        assert not any(key.startswith(b"ghost") for key, _ in uncommitted), uncommitted
        # Every key once, with its latest committed value.
        assert sorted(uncommitted) == sorted(committed.items()), uncommitted
        assert read_partition(broker.bootstrap, topic, "read_committed") == uncommitted
        return True

    wait_until(cleaned)
    # The producer goes on across cleans, and a restart keeps the cleaned log and its transaction state.
    producer.begin_transaction()
    producer.produce(topic, key=b"k0", value=b"after")
    producer.commit_transaction(30)
    committed[b"k0"] = b"after"
    broker.restart()
    records = read_partition(broker.bootstrap, topic, "read_committed")
    assert latest(records) == committed
    assert latest(read_partition(broker.bootstrap, topic, "read_uncommitted")) == committed


def kafka_python_records(bootstrap, topic):
    """(offset, key, value, headers) of partition 0 from its start to its end, read with kafka-python."""
    from kafka import KafkaConsumer
    from kafka import TopicPartition as PyTopicPartition
    partition = PyTopicPartition(topic, 0)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=2000)
    try:
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        records = []
        deadline = time.time() + 20
        while time.time() < deadline and consumer.position(partition) < end:
            for batch in consumer.poll(timeout_ms=500).values():
                records += [(r.offset, r.key, r.value, list(r.headers or [])) for r in batch]
        return records
    finally:
        consumer.close()


def test_compacted_topic_with_kafka_python(broker_factory):
    """kafka-python's idempotent producer writes updates and tombstones; after cleaning its consumer sees each
    live key once with its latest value and headers, tombstones gone after their horizon, and the producer goes on
    across cleans."""
    from kafka import KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic as PyNewTopic
    broker = broker_factory(log_cleaner_backoff_ms="200")
    topic = "compacted-kafka-python"
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        admin.create_topics([PyNewTopic(topic, 1, 1, topic_configs={
            "cleanup.policy": "compact", "segment.ms": "500", "min.cleanable.dirty.ratio": "0.01",
            "delete.retention.ms": "1500"})])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=True, linger_ms=5)
    keys = [f"py-{index}".encode() for index in range(8)]
    deleted = keys[:2]
    latest = {}
    for round_ in range(40):
        for key in keys:
            value = b"%s-%d" % (key, round_) + b"y" * 500
            headers = [("round", b"%d" % round_)]
            producer.send(topic, key=key, value=value, headers=headers)
            latest[key] = (value, headers)
        if round_ % 10 == 0:
            producer.flush(10)
            time.sleep(0.6)
    for key in deleted:
        producer.send(topic, key=key, value=None)
        latest[key] = (None, [])
    producer.flush(10)
    time.sleep(0.6)
    producer.send(topic, key=b"marker", value=b"1").get(10)  # rolls the segment holding the last updates

    def live(records, tombstones_gone):
        offsets = [offset for offset, _, _, _ in records]
        assert offsets == sorted(set(offsets)), "offsets must increase"
        by_key = {}
        for _, key, value, headers in records:
            by_key.setdefault(key, []).append((value, headers))
        for key in keys:
            if key in deleted and tombstones_gone:
                assert key not in by_key, f"{key} should be gone"
            else:
                assert by_key.get(key) == [latest[key]], f"{key}: {by_key.get(key)}"
        return by_key

    def cleaned():
        live(kafka_python_records(broker.bootstrap, topic), tombstones_gone=False)
        return True

    wait_until(cleaned)
    time.sleep(2)  # past the tombstones' delete horizon
    producer.send(topic, key=b"marker", value=b"2").get(10)
    time.sleep(0.6)
    producer.send(topic, key=b"marker", value=b"3").get(10)  # no OutOfOrderSequenceNumber across cleans
    producer.close(10)

    def tombstones_gone():
        by_key = live(kafka_python_records(broker.bootstrap, topic), tombstones_gone=True)
        assert by_key[b"marker"][-1] == (b"3", [])
        return True

    wait_until(tombstones_gone)
