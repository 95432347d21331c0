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
        result = subprocess.run(["go", "build", "-o", str(output), program], cwd=GO_PATH, env=go_environment(),
                                capture_output=True, text=True, timeout=300)
        if result.returncode != 0:
            pytest.fail(f"go build {program} failed ({result.returncode}):\n{result.stderr}")
        binaries[program] = output
    return binaries


@pytest.fixture(scope="module")
def go_binaries(tmp_path_factory):
    return build_go_programs(tmp_path_factory.mktemp("go-bin"), ("portask-sarama", "portask-kafkago"))


# What the Go runtime writes when a program crashes: a panic, a fatal runtime error (e.g. concurrent map
# writes), a fault, or the race detector's report; each followed by goroutine dumps.
GO_CRASH_MARKERS = ("panic:", "fatal error:", "[signal ", "goroutine ", "WARNING: DATA RACE")
# log.Fatal's exit status: the programs' deliberate failure, as opposed to a crash (a panic exits 2).
GO_FATAL_EXIT = 1


def check_go_exit(result, expected=0):
    """Fails unless the Go program exited with `expected` and without crashing (a crash may also print output
    a test would otherwise accept, or exit with the status a deliberate failure has)."""
    command = " ".join(str(part) for part in result.args)
    crash = next((marker for marker in GO_CRASH_MARKERS if marker in result.stderr), None)
    if result.returncode < 0:
        pytest.fail(f"{command} was killed by signal {-result.returncode}:\n{result.stderr}")
    if crash is not None:
        pytest.fail(f"{command} crashed (exit {result.returncode}, {crash!r} in its stderr):\n{result.stderr}")
    if result.returncode != expected:
        pytest.fail(f"{command} exited {result.returncode}, not {expected}:\n{result.stderr}")


def parse_go_output(result):
    """The program's stdout as one JSON object per line; any other line fails the test."""
    messages = []
    for line in result.stdout.splitlines():
        try:
            messages.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"unexpected output line {line!r} from {result.args[0]}:\n{result.stdout}\n{result.stderr}")
    return messages


def run(binary, broker, *arguments):
    result = subprocess.run([str(binary), "-brokers", broker.bootstrap, *arguments],
                            capture_output=True, text=True, timeout=60)
    check_go_exit(result)
    return parse_go_output(result)


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
    # The program's own log.Fatalf on the failed send, not a crash.
    check_go_exit(result, expected=GO_FATAL_EXIT)
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


GO_PANIC = """panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.main()
\t/work/Tests/go/src/portask-sarama/main.go:99 +0x1d
exit status 2
"""


@pytest.mark.parametrize("returncode,stdout,stderr,expected", [
    (2, "", GO_PANIC, 0),  # a panic
    (0, '{"offset": 0}\n', GO_PANIC, 0),  # a panic reported, exit status lost (e.g. through a wrapper)
    (2, "", "fatal error: concurrent map writes\n\ngoroutine 7 [running]:\n", 0),
    (-11, "", "", 0),  # killed by SIGSEGV
    (1, "", "send: kafka: Failed to deliver 1 messages.\n", 0),  # a deliberate failure where success is due
    (2, "", GO_PANIC + "Failed to deliver\n", GO_FATAL_EXIT),  # a crash where a deliberate failure is due
    (0, "", "", GO_FATAL_EXIT),
])
def test_go_program_crash_or_wrong_exit_fails_the_test(returncode, stdout, stderr, expected):
    result = subprocess.CompletedProcess(["portask-sarama", "-brokers", "x"], returncode, stdout, stderr)
    with pytest.raises(pytest.fail.Exception):
        check_go_exit(result, expected=expected)


def test_go_program_clean_exit_passes_and_its_output_is_json_lines():
    result = subprocess.CompletedProcess(["portask-kafkago"], 0, '{"offset": 0}\n{"offset": 1}\n', "")
    check_go_exit(result)
    assert parse_go_output(result) == [{"offset": 0}, {"offset": 1}]
    failed = subprocess.CompletedProcess(["portask-sarama"], 1, "", "send: kafka: Failed to deliver 1 messages.\n")
    check_go_exit(failed, expected=GO_FATAL_EXIT)
    with pytest.raises(pytest.fail.Exception):
        parse_go_output(subprocess.CompletedProcess(["portask-kafkago"], 0, '{"offset": 0}\ngarbage\n', ""))
