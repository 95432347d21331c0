"""Sarama and kafka-go from Debian (Go in GOPATH mode) produce to and consume from portaskd.

Sarama with config.Version 0.8.2/0.9.0 uses Produce/Fetch v0/v1 (message format v0), 0.10.0 uses v2 (format v1),
2.1.0 uses record batches v2; kafka-go 0.2.1 uses Produce v2 and Fetch v2 (format v1).
"""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = pathlib.Path(__file__).resolve().parents[2]
GO_PATH = ROOT / "Tests" / "go"
BASE_TIMESTAMP = 1700000000000


def go_environment():
    return dict(os.environ, GOPATH=f"{GO_PATH}:/usr/share/gocode", GO111MODULE="off", GOFLAGS="",
                GOCACHE=os.path.join(tempfile.gettempdir(), "portask-go-cache"))


def build_go_programs(directory, programs):
    """Builds the Go programs under Tests/go/src into `directory`; returns their paths by name."""
    if not shutil.which("go"):
        pytest.fail("Go is not installed: run scripts/install-deps.sh")
    binaries = {}
    for program in programs:
        output = directory / program
        subprocess.run(["go", "build", "-o", str(output), program], cwd=GO_PATH, env=go_environment(),
                       capture_output=True, timeout=300, check=True)
        binaries[program] = output
    return binaries


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory):
    return build_go_programs(tmp_path_factory.mktemp("go-bin"), ("portask-sarama", "portask-kafkago"))


def run(binary, broker, *arguments):
    result = subprocess.run([str(binary), "-brokers", broker.bootstrap, *arguments],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("version,codec", [
    ("0.8.2.0", "none"), ("0.8.2.0", "gzip"), ("0.9.0.0", "snappy"),
    ("0.10.0.0", "none"), ("0.10.0.0", "gzip"), ("0.10.0.0", "snappy"), ("0.10.0.0", "lz4"),
    ("2.1.0", "none"), ("2.1.0", "gzip"), ("2.1.0", "snappy"), ("2.1.0", "lz4"),
])
def test_sarama_sync_producer_and_partition_consumer(go_binaries, broker, version, codec):
    topic = f"sarama-{version.replace('.', '-')}-{codec}"
    messages = run(go_binaries["portask-sarama"], broker, "-topic", topic, "-version", version,
                   "-compression", codec, "-count", "5", "-timestamp", str(BASE_TIMESTAMP))
    numbers = tuple(int(part) for part in version.split("."))
    with_timestamps = numbers >= (0, 10)
    with_headers = numbers >= (0, 11)
    assert messages == [{
        "offset": i, "key": f"key-{i}", "value": f"value-{i}-{codec}",
        "timestamp": BASE_TIMESTAMP + i if with_timestamps else -1,
        "headers": {"h": str(i)} if with_headers else {},
    } for i in range(5)]


def test_sarama_zstd_in_produce_v3_is_refused_as_kafka_refuses_it(go_binaries, broker):
    """Sarama 1.22 sends zstd batches in Produce v3; Kafka (KIP-110) answers UNSUPPORTED_COMPRESSION_TYPE."""
    result = subprocess.run([str(go_binaries["portask-sarama"]), "-brokers", broker.bootstrap, "-topic", "zstd-v3",
                             "-version", "2.1.0", "-compression", "zstd", "-count", "2"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Failed to deliver" in result.stderr


def test_sarama_old_consumer_reads_what_a_new_producer_wrote(go_binaries, broker):
    """Batches v2 with headers, stored zstd-compressed (topic compression.type), are down-converted for
    Fetch v2 (format v1)."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("mixed", num_partitions=1, replication_factor=1,
                                  config={"compression.type": "zstd"})])["mixed"].result(10)
    run(go_binaries["portask-sarama"], broker, "-topic", "mixed", "-version", "2.1.0",
        "-compression", "none", "-count", "3")
    messages = run(go_binaries["portask-sarama"], broker, "-topic", "mixed", "-version", "0.10.0.0",
                   "-compression", "none", "-count", "6")
    # The old consumer reads the three v2 records (headers dropped) and its own three, in offset order.
    assert [m["offset"] for m in messages] == list(range(6))
    assert [m["value"] for m in messages] == [f"value-{i}-none" for i in range(3)] * 2
    assert all(m["headers"] == {} for m in messages)
    assert [m["timestamp"] for m in messages] == [BASE_TIMESTAMP + i for i in range(3)] * 2


@pytest.mark.parametrize("codec", ["none", "gzip", "snappy", "lz4"])
def test_kafka_go_writer_and_reader(go_binaries, broker, codec):
    topic = f"kafkago-{codec}"
    # kafka-go 0.2.1 does not create topics; Metadata auto-creates it.
    messages = run(go_binaries["portask-kafkago"], broker, "-topic", topic, "-compression", codec,
                   "-count", "5", "-timestamp", str(BASE_TIMESTAMP))
    assert messages == [{"offset": i, "key": f"key-{i}", "value": f"value-{i}-{codec}",
                         "timestamp": BASE_TIMESTAMP + i} for i in range(5)]
