"""ApiVersions and Metadata answered by portaskd are accepted by kcat, confluent-kafka and kafka-python."""
import json
import shutil
import subprocess

import pytest
from confluent_kafka.admin import AdminClient
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient


def test_kcat_lists_brokers_and_auto_created_topic(broker):
    assert shutil.which("kcat"), "kcat must be installed (scripts/install-deps.sh)"
    listing = subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-J", "-m", "10", "-t", "kcat-topic"],
                             capture_output=True, text=True, timeout=30, check=True)
    metadata = json.loads(listing.stdout)
    assert metadata["brokers"] == [{"id": 0, "name": broker.bootstrap}]
    assert metadata["controllerid"] == 0
    [topic] = metadata["topics"]
    assert topic["topic"] == "kcat-topic"
    assert topic["partitions"] == [{"partition": 0, "leader": 0, "replicas": [{"id": 0}], "isrs": [{"id": 0}]}]


def test_confluent_kafka_admin_lists_topics(broker):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    metadata = admin.list_topics(topic="ck-topic", timeout=10)
    assert list(metadata.brokers) == [0]
    assert metadata.brokers[0].host == "127.0.0.1" and metadata.brokers[0].port == broker.port
    assert "ck-topic" in metadata.topics
    assert list(metadata.topics["ck-topic"].partitions) == [0]
    everything = admin.list_topics(timeout=10)
    assert "ck-topic" in everything.topics


def test_kafka_python_negotiates_versions_and_reads_metadata(broker):
    # kafka-python asks for all topics (no auto-creation), so the topic is auto-created through kcat first.
    subprocess.run(["kcat", "-b", broker.bootstrap, "-L", "-m", "10", "-t", "kp-topic"],
                   capture_output=True, timeout=30, check=True)
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        assert consumer.partitions_for_topic("kp-topic") == {0}
        assert "kp-topic" in consumer.topics()
    finally:
        consumer.close()
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        assert "kp-topic" in admin.list_topics()
    finally:
        admin.close()


def test_unknown_api_version_of_api_versions_gets_the_v0_error_layout(broker):
    import socket
    import struct
    with socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
        # ApiVersions v99, correlation id 7, client id "x", then an empty tagged section.
        body = struct.pack(">hhih", 18, 99, 7, 1) + b"x" + b"\x00"
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", sock.recv(4))[0]
        payload = b""
        while len(payload) < size:
            payload += sock.recv(size - len(payload))
    correlation_id, error_code, count = struct.unpack(">ihi", payload[:10])
    assert correlation_id == 7
    assert error_code == 35  # UNSUPPORTED_VERSION
    keys = {struct.unpack(">hhh", payload[10 + 6 * i:16 + 6 * i])[0] for i in range(count)}
    assert 18 in keys and 3 in keys
