"""Produce and fetch with real clients: exact keys, values, headers and timestamps; durability; long poll."""
import os
import signal
import socket
import struct
import subprocess
import threading
import time
import urllib.request

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KPTopicPartition

from kafka_wire import frame, read_response, timed_fetch


def ensure_topic(bootstrap: str, topic: str):
    AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic=topic, timeout=10)


def consume_all(bootstrap: str, topic: str, count: int, partition: int = 0, timeout: float = 20.0):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "unused", "enable.auto.commit": False,
                         "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition(topic, partition, 0)])
    messages = []
    deadline = time.time() + timeout
    try:
        while len(messages) < count and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            assert message.error() is None, message.error()
            messages.append(message)
    finally:
        consumer.close()
    return messages


def test_kcat_produces_keyed_messages_and_consumes_them_back(broker):
    lines = "".join(f"key{i}:value {i}\n" for i in range(50))
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "kcat-t", "-K:"], input=lines, text=True,
                   timeout=30, check=True)
    out = subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "kcat-t", "-e", "-q", "-f", "%k|%s|%o\n"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert out.splitlines() == [f"key{i}|value {i}|{i}" for i in range(50)]


def test_confluent_kafka_round_trip_is_exact(broker):
    ensure_topic(broker.bootstrap, "ck-exact")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5})
    sent = []
    for i in range(200):
        key = f"k{i}".encode()
        value = os.urandom(i * 7 % 900)
        headers = [("h", f"x{i}".encode()), ("empty", b"")]
        timestamp = 1_700_000_000_000 + i
        producer.produce("ck-exact", value=value, key=key, headers=headers, timestamp=timestamp, partition=0)
        sent.append((key, value, headers, timestamp))
    assert producer.flush(20) == 0
    received = consume_all(broker.bootstrap, "ck-exact", len(sent))
    assert [m.offset() for m in received] == list(range(len(sent)))
    for message, (key, value, headers, timestamp) in zip(received, sent):
        assert message.key() == key
        assert message.value() == value
        assert message.headers() == headers
        assert message.timestamp() == (1, timestamp)


def test_kafka_python_producer_and_partition_consumer(broker):
    ensure_topic(broker.bootstrap, "kp-exact")
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=False)
    futures = [producer.send("kp-exact", key=f"k{i}".encode(), value=f"v{i}".encode(),
                             headers=[("n", str(i).encode())], partition=0, timestamp_ms=1_600_000_000_000 + i)
               for i in range(100)]
    offsets = [future.get(timeout=20).offset for future in futures]
    producer.close()
    assert offsets == list(range(100))
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=5000)
    consumer.assign([KPTopicPartition("kp-exact", 0)])
    consumer.seek_to_beginning()
    received = []
    for message in consumer:
        received.append(message)
        if len(received) == 100:
            break
    consumer.close()
    assert [(m.key, m.value, m.headers, m.timestamp) for m in received] == [
        (f"k{i}".encode(), f"v{i}".encode(), [("n", str(i).encode())], 1_600_000_000_000 + i) for i in range(100)]


def test_acked_messages_survive_sigkill(broker):
    ensure_topic(broker.bootstrap, "durable")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 2})
    acked = []

    def on_delivery(error, message):
        if error is None:
            acked.append((message.offset(), message.value()))

    for i in range(2000):
        producer.produce("durable", value=f"m{i}".encode(), partition=0, on_delivery=on_delivery)
        if i % 100 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    assert len(acked) == 2000
    broker.stop(signal.SIGKILL)
    broker.start()
    received = consume_all(broker.bootstrap, "durable", len(acked))
    assert sorted((m.offset(), m.value()) for m in received) == sorted(acked)


def test_long_poll_waits_for_max_wait_and_wakes_on_produce(broker):
    ensure_topic(broker.bootstrap, "poll")
    elapsed, _ = timed_fetch(broker.port, "poll", 0, max_wait_ms=700)
    assert 0.6 <= elapsed < 2.0, elapsed

    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": 1, "linger.ms": 0})
    producer.produce("poll", value=b"warm-up", partition=0)
    producer.flush(10)
    produced_at = {}

    def produce_later():
        time.sleep(0.5)
        produced_at["t"] = time.monotonic()
        producer.produce("poll", value=b"wake", partition=0)
        producer.flush(10)

    thread = threading.Thread(target=produce_later)
    thread.start()
    started = time.monotonic()
    elapsed, answer = timed_fetch(broker.port, "poll", 1, max_wait_ms=10_000)
    thread.join()
    assert b"wake" in answer
    assert started + elapsed - produced_at["t"] < 0.1


def test_message_over_max_message_bytes_is_rejected_and_the_connection_keeps_working(broker_factory):
    broker = broker_factory(message_max_bytes=10_000)
    ensure_topic(broker.bootstrap, "small")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.max.bytes": 1_000_000,
                         "compression.type": "none", "linger.ms": 0, "retries": 0})
    outcomes = []
    producer.produce("small", value=b"x" * 50_000, partition=0, on_delivery=lambda e, m: outcomes.append(e))
    producer.flush(10)
    assert outcomes[0] is not None and outcomes[0].code() == KafkaError.MSG_SIZE_TOO_LARGE
    producer.produce("small", value=b"fits", partition=0, on_delivery=lambda e, m: outcomes.append(e))
    producer.flush(10)
    assert outcomes[1] is None
    assert [m.value() for m in consume_all(broker.bootstrap, "small", 1)] == [b"fits"]


def test_garbage_connections_do_not_disturb_a_working_client(broker):
    ensure_topic(broker.bootstrap, "steady")
    stop = threading.Event()
    errors = []
    produced = []

    def keep_producing():
        producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1})
        i = 0
        while not stop.is_set():
            producer.produce("steady", value=f"s{i}".encode(), partition=0,
                             on_delivery=lambda e, m: errors.append(e) if e else produced.append(m.value()))
            producer.poll(0.005)
            i += 1
        producer.flush(10)

    thread = threading.Thread(target=keep_producing)
    thread.start()
    time.sleep(0.3)
    attacks = [
        os.urandom(4096),
        struct.pack(">i", 2**31 - 1) + b"\x00" * 64,
        frame(0, 99, 5, b""),
        frame(18, 99, 6, b"\x00"),
        frame(0x7ABC, 0, 7, b""),
        struct.pack(">i", 20) + b"\x00\x03\x00\x0c",
    ]
    for attack in attacks:
        with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
            sock.sendall(attack)
            sock.settimeout(2)
            try:
                while sock.recv(65536):
                    pass
            except (socket.timeout, ConnectionError):
                pass
    time.sleep(0.3)
    stop.set()
    thread.join(timeout=20)
    assert errors == []
    assert len(produced) > 10
    received = consume_all(broker.bootstrap, "steady", len(produced))
    assert [m.value() for m in received] == produced


def test_metrics_report_produce_fetch_and_partitions(broker_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    broker = broker_factory(metrics_listener=f"http://127.0.0.1:{metrics_port}")
    subprocess.run(["kcat", "-b", broker.bootstrap, "-P", "-t", "metered"], input="one\ntwo\n", text=True,
                   timeout=30, check=True)
    subprocess.run(["kcat", "-b", broker.bootstrap, "-C", "-t", "metered", "-e", "-q"], capture_output=True,
                   timeout=30, check=True)
    text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
    samples = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line and not line.startswith("#")}
    assert samples['portask_requests_total{api="Produce"}'] >= 1
    assert samples['portask_requests_total{api="Fetch"}'] >= 1
    assert samples['portask_request_duration_seconds_count{api="Produce"}'] >= 1
    assert samples["portask_network_bytes_in_total"] > 0
    assert samples["portask_network_bytes_out_total"] > 0
    assert samples['portask_partition_log_end_offset{topic="metered",partition="0"}'] == 2
    assert samples['portask_partition_log_size_bytes{topic="metered",partition="0"}'] > 0


def test_time_retention_deletes_old_segments_and_moves_the_log_start(broker_factory):
    broker = broker_factory(log_retention_check_interval_ms=100, log_roll_ms=100, log_retention_ms=400)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": 1, "linger.ms": 0})
    ensure_topic(broker.bootstrap, "expiring")
    for i in range(3):
        producer.produce("expiring", value=f"old{i}".encode(), partition=0)
        producer.flush(10)
        time.sleep(0.15)
    time.sleep(0.6)
    producer.produce("expiring", value=b"new", partition=0)
    producer.flush(10)
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused"})
    deadline = time.time() + 10
    low = 0
    while time.time() < deadline:
        low, high = consumer.get_watermark_offsets(TopicPartition("expiring", 0), timeout=5)
        if low == 3:
            break
        time.sleep(0.1)
    consumer.close()
    assert (low, high) == (3, 4)
    assert [m.value() for m in consume_all(broker.bootstrap, "expiring", 1)] == [b"new"]


def test_a_tiny_in_flight_byte_budget_slows_reading_but_serves_everything(broker_factory):
    broker = broker_factory(queued_max_request_bytes=2048, queued_max_requests=2)
    ensure_topic(broker.bootstrap, "budget")
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 1,
                         "batch.size": 16384})
    for i in range(3000):
        producer.produce("budget", value=f"b{i}".encode() * 10, partition=0)
        if i % 500 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0
    received = consume_all(broker.bootstrap, "budget", 3000)
    assert [m.value() for m in received] == [f"b{i}".encode() * 10 for i in range(3000)]
