"""Fetch sessions (KIP-227): kafka-python's consumer uses incremental fetch sessions against portaskd."""
import logging
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer
from kafka import TopicPartition as KPTopicPartition


def test_kafka_python_consumes_through_incremental_fetch_sessions(broker, caplog):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("sessions", num_partitions=3, replication_factor=1)])["sessions"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2})
    expected = {}
    for i in range(600):
        partition = i % 3
        producer.produce("sessions", value=f"m{i}".encode(), partition=partition)
        expected.setdefault(partition, []).append(f"m{i}".encode())
    assert producer.flush(20) == 0

    caplog.set_level(logging.DEBUG, logger="kafka.consumer.fetcher")
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             max_partition_fetch_bytes=2048, fetch_max_wait_ms=100)
    consumer.assign([KPTopicPartition("sessions", p) for p in range(3)])
    consumer.seek_to_beginning()
    received = {0: [], 1: [], 2: []}
    deadline = time.time() + 30
    while sum(map(len, received.values())) < 600 and time.time() < deadline:
        for tp, messages in consumer.poll(timeout_ms=500).items():
            received[tp.partition] += [m.value for m in messages]
    # A late produce reaches the consumer through the same session.
    producer.produce("sessions", value=b"late", partition=1)
    producer.flush(10)
    expected[1].append(b"late")
    while len(received[1]) < len(expected[1]) and time.time() < deadline:
        for tp, messages in consumer.poll(timeout_ms=500).items():
            received[tp.partition] += [m.value for m in messages]
    consumer.close()
    assert received == expected
    messages = [r.getMessage() for r in caplog.records]
    assert any("created a new incremental fetch session" in m for m in messages)
    assert any("sent an incremental fetch response for session" in m for m in messages)
    assert not any("invalid" in m and "fetch response" in m for m in messages)
