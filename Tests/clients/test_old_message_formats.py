"""Clients pinned to old protocol versions (Produce v0-v2, Fetch v0-v3, message formats v0/v1) against portaskd.

librdkafka with `api.version.request=false` and `broker.version.fallback` 0.8.2 / 0.9.0 speaks Produce v0 / v1 and
Fetch v0 / v1 with message format v0 (lz4 with the v0 header checksum); librdkafka 2.x asks for ApiVersions
anyway when the fallback is 0.10 or later. kafka-python with `api_version` (0, 9) / (0, 10, 1) speaks message
format v0 / v1.
Records written by a current client are down-converted for old consumers and the other way round.
"""
import time

import pytest
from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, Producer, TopicPartition as CkTopicPartition
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from test_compression import CODEC_NUMBERS, stored_codecs

BASE_TIMESTAMP = 1700000000000
COUNT = 10


def records(tag):
    return [(f"key-{i}".encode(), f"value-{i}-{tag}-".encode() * (10 + i), BASE_TIMESTAMP + i) for i in range(COUNT)]


def confluent_config(broker, fallback):
    config = {"bootstrap.servers": broker.bootstrap}
    if fallback:
        config.update({"api.version.request": False, "broker.version.fallback": fallback})
    return config


def produce_confluent(broker, topic, fallback, codec, tag):
    producer = Producer(dict(confluent_config(broker, fallback), **{"compression.type": codec, "linger.ms": 20}))
    for key, value, timestamp in records(tag):
        producer.produce(topic, key=key, value=value, timestamp=timestamp, partition=0)
    assert producer.flush(20) == 0


def consume_confluent(broker, topic, fallback, count):
    consumer = Consumer(dict(confluent_config(broker, fallback), **{
        "group.id": "old-formats", "enable.auto.commit": False, "fetch.wait.max.ms": 100}))
    try:
        consumer.assign([CkTopicPartition(topic, 0, 0)])
        out, deadline = [], time.time() + 20
        while len(out) < count and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            kind, timestamp = message.timestamp()
            out.append((message.offset(), message.key(), message.value(),
                        None if kind == TIMESTAMP_NOT_AVAILABLE or timestamp == -1 else timestamp))
        return out
    finally:
        consumer.close()


def produce_kafka_python(broker, topic, api_version, codec, tag):
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, api_version=api_version, linger_ms=20,
                             enable_idempotence=False,
                             compression_type=None if codec == "none" else codec)
    try:
        futures = [producer.send(topic, key=key, value=value, timestamp_ms=timestamp, partition=0)
                   for key, value, timestamp in records(tag)]
        producer.flush(timeout=20)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close(timeout=5)


def consume_kafka_python(broker, topic, api_version, count):
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, api_version=api_version, enable_auto_commit=False,
                             fetch_max_wait_ms=100)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek(partition, 0)
        out, deadline = [], time.time() + 20
        while len(out) < count and time.time() < deadline:
            for message in consumer.poll(timeout_ms=500).get(partition, []):
                timestamp = None if message.timestamp in (None, -1) else message.timestamp
                out.append((message.offset, message.key, message.value, timestamp))
        return out
    finally:
        consumer.close()


def expected(tag, first_offset=0, timestamps=True):
    """What a consumer reads; None where message format v0 carried no timestamp."""
    return [(first_offset + i, key, value, timestamp if timestamps else None)
            for i, (key, value, timestamp) in enumerate(records(tag))]


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
@pytest.mark.parametrize("fallback", ["0.8.2", "0.9.0"])
def test_librdkafka_old_formats_round_trip(broker, fallback, codec):
    topic = f"rdkafka-{fallback.replace('.', '-')}-{codec}"
    produce_confluent(broker, topic, fallback, codec, codec)
    # Up-converted to batches v2 compressed with the producer's codec.
    assert set(stored_codecs(broker, topic)) == {CODEC_NUMBERS[codec]}
    with_timestamps = False
    assert consume_confluent(broker, topic, fallback, COUNT) == expected(codec, timestamps=with_timestamps)
    # A current consumer reads the up-converted batches (timestamps -1 where format v0 had none).
    assert consume_confluent(broker, topic, None, COUNT) == expected(codec, timestamps=with_timestamps)


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
@pytest.mark.parametrize("api_version", [(0, 9), (0, 10, 1)])
def test_kafka_python_old_formats_round_trip(broker, api_version, codec):
    topic = f"kp-{'-'.join(map(str, api_version))}-{codec}"
    produce_kafka_python(broker, topic, api_version, codec, codec)
    assert set(stored_codecs(broker, topic)) == {CODEC_NUMBERS[codec]}
    with_timestamps = api_version >= (0, 10)
    assert consume_kafka_python(broker, topic, api_version, COUNT) == expected(codec, timestamps=with_timestamps)
    assert consume_kafka_python(broker, topic, None, COUNT) == expected(codec, timestamps=with_timestamps)


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_batches_from_current_producers_are_down_converted_for_old_consumers(broker, codec):
    topic = f"down-{codec}"
    produce_confluent(broker, topic, None, codec, "new")
    produce_kafka_python(broker, topic, None, codec, "newer")
    both = expected("new") + expected("newer", first_offset=COUNT)
    assert consume_kafka_python(broker, topic, (0, 10, 1), 2 * COUNT) == both
    assert consume_confluent(broker, topic, "0.9.0", 2 * COUNT) == [(o, k, v, None) for o, k, v, _ in both]
    assert consume_kafka_python(broker, topic, (0, 9), 2 * COUNT) == [(o, k, v, None) for o, k, v, _ in both]
