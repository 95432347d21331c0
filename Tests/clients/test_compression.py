"""Every compression codec through portaskd: batches compressed by librdkafka (confluent-kafka) and kafka-python
are stored as sent and read back by both clients with keys, values, headers and timestamps intact."""
import pathlib
import socket
import struct
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition as CkTopicPartition
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
CODEC_NUMBERS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
BASE_TIMESTAMP = 1700000000000
COUNT = 20


def expected_records(codec):
    return [(f"key-{i}".encode(), f"value-{i}-{codec}-".encode() * (20 + i % 4),
             [("h1", f"{i}".encode()), ("h2", b"\x00\xff")], BASE_TIMESTAMP + i) for i in range(COUNT)]


def produce_confluent(broker, topic, codec):
    producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": codec, "linger.ms": 20,
                         "acks": "all"})
    for key, value, headers, timestamp in expected_records(codec):
        producer.produce(topic, key=key, value=value, headers=headers, timestamp=timestamp, partition=0)
    assert producer.flush(20) == 0


def produce_kafka_python(broker, topic, codec):
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=20, enable_idempotence=False,
                             compression_type=None if codec == "none" else codec)
    try:
        futures = [producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=timestamp,
                                 partition=0)
                   for key, value, headers, timestamp in expected_records(codec)]
        producer.flush(timeout=20)
        assert [future.get(timeout=10).offset for future in futures] == list(range(COUNT))
    finally:
        producer.close(timeout=5)


def consume_confluent(broker, topic):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "compression-test",
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100})
    try:
        consumer.assign([CkTopicPartition(topic, 0, 0)])
        records = []
        deadline = time.time() + 20
        while len(records) < COUNT and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            records.append((message.offset(), message.key(), message.value(),
                            [(k, v) for k, v in (message.headers() or [])], message.timestamp()[1]))
        return records
    finally:
        consumer.close()


def consume_kafka_python(broker, topic):
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=100)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 0)
        records = []
        deadline = time.time() + 20
        while len(records) < COUNT and time.time() < deadline:
            for message in consumer.poll(timeout_ms=500).get(partition, []):
                records.append((message.offset, message.key, message.value, list(message.headers),
                                message.timestamp))
        return records
    finally:
        consumer.close()


def stored_codecs(broker, topic):
    """The compression codec of every batch in the partition's first segment, as stored on disk."""
    data = (pathlib.Path(broker.data_dir) / f"{topic}-0" / ("0" * 20 + ".log")).read_bytes()
    codecs, position = [], 0
    while position + 61 <= len(data):
        length = struct.unpack_from(">i", data, position + 8)[0]
        codecs.append(struct.unpack_from(">h", data, position + 21)[0] & 0x07)
        position += 12 + length
    return codecs


def advertised_api_keys(broker):
    """The API keys portaskd lists in its ApiVersions v0 answer."""
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
        body = struct.pack(">hhih", 18, 0, 1, 4) + b"test"
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", sock.recv(4, socket.MSG_WAITALL))[0]
        payload = sock.recv(size, socket.MSG_WAITALL)
    _, error, count = struct.unpack_from(">ihi", payload)
    assert error == 0
    return {struct.unpack_from(">h", payload, 10 + 6 * i)[0] for i in range(count)}


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("producer", ["confluent-kafka", "kafka-python"])
def test_codec_round_trip_through_both_clients(broker, producer, codec):
    topic = f"compression-{producer}-{codec}"
    (produce_confluent if producer == "confluent-kafka" else produce_kafka_python)(broker, topic, codec)
    expected = [(offset, key, value, headers, timestamp)
                for offset, (key, value, headers, timestamp) in enumerate(expected_records(codec))]
    assert consume_confluent(broker, topic) == expected
    assert consume_kafka_python(broker, topic) == expected
    codecs = stored_codecs(broker, topic)
    if producer == "confluent-kafka" and codec == "lz4" and 10 not in advertised_api_keys(broker):
        # librdkafka enables lz4 only for brokers that serve FindCoordinator (key 10) and otherwise sends
        # uncompressed batches.
        assert set(codecs) == {0}
        return
    assert codecs and set(codecs) == {CODEC_NUMBERS[codec]}
