"""Log compaction seen by real clients: confluent-kafka produces updates and tombstones of a few keys into a
compacted topic; after the cleaner ran, a consumer from the beginning sees every live key once with its latest
value and headers, in increasing offsets, tombstoned keys gone after delete.retention.ms; a restart keeps it; the
idempotent producer keeps producing across cleans."""
import time

from confluent_kafka import Consumer, Producer, TopicPartition
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
