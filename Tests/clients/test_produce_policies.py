"""Produce policies from topic configs: compression.type recompression and min.insync.replicas."""
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from test_compression import stored_codecs


def create(broker, name, configs):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1, config=configs)])[name].result(10)


def test_topic_compression_type_recompresses_what_producers_send(broker):
    create(broker, "zstd-topic", {"compression.type": "zstd"})
    producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": "gzip", "linger.ms": 5})
    sent = [(f"k{i}".encode(), f"value {i} ".encode() * 20, [("h", str(i).encode())]) for i in range(100)]
    for key, value, headers in sent:
        producer.produce("zstd-topic", key=key, value=value, headers=headers, partition=0)
    assert producer.flush(20) == 0
    assert set(stored_codecs(broker, "zstd-topic")) == {4}
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition("zstd-topic", 0, 0)])
    received = []
    deadline = time.time() + 20
    while len(received) < len(sent) and time.time() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            received.append((message.key(), message.value(), message.headers()))
    consumer.close()
    assert received == sent


def test_acks_all_needs_min_insync_replicas_this_broker_can_meet(broker):
    create(broker, "strict", {"min.insync.replicas": "2"})
    outcomes = []
    strict = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "retries": 0,
                       "enable.idempotence": False, "message.timeout.ms": 5000})
    strict.produce("strict", value=b"x", partition=0, on_delivery=lambda e, m: outcomes.append(e))
    strict.flush(10)
    assert outcomes[0] is not None and outcomes[0].code() == KafkaError.NOT_ENOUGH_REPLICAS
    relaxed = Producer({"bootstrap.servers": broker.bootstrap, "acks": 1})
    relaxed.produce("strict", value=b"y", partition=0, on_delivery=lambda e, m: outcomes.append(e))
    relaxed.flush(10)
    assert outcomes[1] is None
