"""portask-verify against data written by real clients through portaskd (broker stopped first): the data
directory is clean, `dump` shows exactly what was produced for every codec (confluent-kafka and kafka-python),
damage is found (exit 1, named in the JSON), repaired, then clean; usage and I/O errors exit with 2."""
import json
import pathlib
import subprocess

import pytest
from confluent_kafka import Producer
from kafka import KafkaProducer

from conftest import ROOT

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
BASE_TIMESTAMP = 1700000000000
COUNT = 12


def verify_binary() -> pathlib.Path:
    for configuration in ("debug", "release"):
        candidate = ROOT / ".build" / configuration / "portask-verify"
        if candidate.exists():
            return candidate
    raise RuntimeError("portask-verify is not built: run swift build first")


def run_verify(*arguments):
    return subprocess.run([str(verify_binary()), *map(str, arguments)], capture_output=True, text=True,
                          timeout=60)


def expected_records(tag):
    # Compressible values, so librdkafka keeps the compressed form; a null key, and a null header value where
    # the client allows one (kafka-python does not).
    null_header = tag.startswith("ck")
    return [(None if i == 3 else f"key-{i}".encode(), f"value-{i}-{tag}-".encode() * (10 + i % 3),
             [("h1", f"{i}".encode()), ("h2", None if i == 5 and null_header else b"\x00\xff")], BASE_TIMESTAMP + i)
            for i in range(COUNT)]


def produce_confluent(broker, topic, codec):
    producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": codec, "linger.ms": 50,
                         "acks": "all"})
    for key, value, headers, timestamp in expected_records(f"ck-{codec}"):
        producer.produce(topic, key=key, value=value, headers=headers, timestamp=timestamp, partition=0)
    assert producer.flush(20) == 0


def produce_kafka_python(broker, topic, codec):
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=50,
                             enable_idempotence=False, compression_type=None if codec == "none" else codec)
    try:
        futures = [producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=timestamp,
                                 partition=0)
                   for key, value, headers, timestamp in expected_records(f"kp-{codec}")]
        producer.flush(timeout=20)
        for future in futures:
            future.get(timeout=10)
    finally:
        producer.close(timeout=5)


def decode(entry, name):
    if name in entry:
        value = entry[name]
        return None if value is None else value.encode()
    return bytes.fromhex(entry[name + "Hex"])


def dumped_records(partition_directory):
    result = run_verify("dump", "--print-data-log", "--json", partition_directory)
    assert result.returncode == 0, result.stderr
    batches = [json.loads(line) for line in result.stdout.splitlines()]
    records = []
    for batch in batches:
        assert batch["isValid"] is True
        for record in batch["records"]:
            headers = [(header["key"], decode(header, "value")) for header in record["headers"]]
            records.append((batch["compression"], record["offset"], decode(record, "key"), decode(record, "value"),
                            headers, record["timestamp"]))
    return records


@pytest.fixture
def written(broker):
    """A stopped broker's data directory with one topic per client and codec."""
    for codec in CODECS:
        produce_confluent(broker, f"ck-{codec}", codec)
        produce_kafka_python(broker, f"kp-{codec}", codec)
    broker.stop()
    return broker.data_dir


def test_real_client_data_directory_is_clean(written):
    result = run_verify("--json", "--deep", written)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "clean" and report["damage"] == []
    assert report["totals"]["records"] == 2 * len(CODECS) * COUNT
    assert report["totals"]["checkpoints"] >= 2
    assert result.stderr == ""  # no progress bar when standard error is not a terminal
    human = run_verify(written)
    assert human.returncode == 0 and human.stdout.startswith("CLEAN")


@pytest.mark.parametrize("client", ["ck", "kp"])
def test_dump_shows_what_was_produced_for_every_codec(written, client):
    for codec in CODECS:
        records = dumped_records(written / f"{client}-{codec}-0")
        expected = expected_records(f"{client}-{codec}")
        compressions = {compression for compression, *_ in records}
        if client == "ck" and codec == "lz4" and compressions == {"none"}:
            # librdkafka enables lz4 only for brokers that serve FindCoordinator; kafka-python covers lz4.
            pass
        else:
            assert compressions == {codec}
        assert [offset for _, offset, *_ in records] == list(range(COUNT))
        assert [(key, value, headers, timestamp) for _, _, key, value, headers, timestamp in records] == \
            [(key, value, [(k, v) for k, v in headers], timestamp) for key, value, headers, timestamp in expected]
    text = run_verify("dump", "--print-data-log", written / f"{client}-gzip-0")
    assert text.returncode == 0
    assert "compresscodec: gzip" in text.stdout
    assert f"key: key-0 payload: {'value-0-' + client + '-gzip-' * 1}" in text.stdout
    assert "headers: [h1=0, h2=0xff" not in text.stdout and "h2=0x00ff" in text.stdout


def test_damage_is_found_repaired_and_then_clean(broker, written):
    partition = written / "ck-none-0"
    log = sorted(partition.glob("*.log"))[-1]
    data = log.read_bytes()
    log.write_bytes(data[:-7])  # torn tail
    index = sorted(partition.glob("*.index"))
    first = run_verify("--json", written)
    assert first.returncode == 1
    report = json.loads(first.stdout)
    kinds = {damage["kind"] for damage in report["damage"]}
    assert "tornTail" in kinds
    assert all(damage["repairable"] for damage in report["damage"])
    repaired = run_verify("--json", "--repair", written)
    assert repaired.returncode == 1
    repaired_report = json.loads(repaired.stdout)
    assert repaired_report["status"] == "repaired" and repaired_report["remainingDamage"] == []
    assert any(repair["action"] == "recoveredPartition" for repair in repaired_report["repairs"])
    second = run_verify("--json", written)
    assert second.returncode == 0, second.stdout
    assert json.loads(second.stdout)["status"] == "clean"
    assert index  # the partition kept its index files
    # What is left is a prefix of what was produced (the torn batch is gone).
    records = dumped_records(partition)
    assert len(records) < COUNT
    assert [value for *_, value, _, _ in records] == [value for _, value, _, _ in expected_records("ck-none")][:len(records)]
    # The broker opens the repaired directory: the next record gets the offset after what is left.
    broker.start()
    delivered = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    producer.produce("ck-none", value=b"after repair", partition=0,
                     on_delivery=lambda error, message: delivered.append((error, message.offset())))
    assert producer.flush(20) == 0
    assert delivered == [(None, len(records))]


def test_corrupt_checkpoint_and_flipped_byte(written):
    (written / "recovery-point-offset-checkpoint").write_text("0\n1\nthis is not a checkpoint\n")
    log = sorted((written / "kp-zstd-0").glob("*.log"))[0]
    data = bytearray(log.read_bytes())
    data[70] ^= 0x01
    log.write_bytes(bytes(data))
    first = run_verify("--json", written)
    assert first.returncode == 1
    kinds = {damage["kind"] for damage in json.loads(first.stdout)["damage"]}
    assert {"badCheckpoint", "crcMismatch"} <= kinds
    assert run_verify("--repair", written).returncode == 1
    assert run_verify(written).returncode == 0


def test_usage_and_io_errors_exit_with_2(tmp_path):
    assert run_verify(tmp_path / "missing").returncode == 2
    assert run_verify("--no-such-option", tmp_path).returncode == 2
    assert run_verify().returncode == 2
    (tmp_path / "notes.txt").write_text("x")
    result = run_verify(tmp_path / "notes.txt")
    assert result.returncode == 2 and "portask-verify:" in result.stderr


def test_progress_bar_only_on_a_terminal(written):
    import os
    import pty
    primary, secondary = pty.openpty()
    try:
        result = subprocess.run([str(verify_binary()), "--progress", str(written)], stdout=subprocess.PIPE,
                                stderr=secondary, timeout=60)
        os.close(secondary)
        secondary = None
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        if secondary is not None:
            os.close(secondary)
        os.close(primary)
    assert result.returncode == 0
    assert b"%" in drawn and b"[" in drawn
    assert b"%" not in result.stdout
    piped = run_verify("--progress", written)
    assert piped.returncode == 0 and piped.stderr == ""


def test_after_kill_9_damage_is_repairable_and_the_broker_restarts(broker):
    import signal
    for codec in ("none", "zstd"):
        produce_confluent(broker, f"ck-{codec}", codec)
    broker.stop(signal.SIGKILL)
    first = run_verify("--json", broker.data_dir)
    assert first.returncode in (0, 1), first.stderr
    report = json.loads(first.stdout)
    # Killed mid-run: the active segments' indexes are still preallocated, checkpoints may lag; all repairable.
    assert all(damage["repairable"] for damage in report["damage"]), report["damage"]
    repaired = run_verify("--json", "--repair", broker.data_dir)
    assert json.loads(repaired.stdout)["status"] in ("clean", "repaired")
    assert run_verify(broker.data_dir).returncode == 0
    records = dumped_records(broker.data_dir / "ck-zstd-0")
    assert [value for _, _, _, value, _, _ in records] == [value for _, value, _, _ in expected_records("ck-zstd")]
    broker.start()
    delivered = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    producer.produce("ck-zstd", value=b"after restart", partition=0,
                     on_delivery=lambda error, message: delivered.append((error, message.offset())))
    assert producer.flush(20) == 0
    assert delivered == [(None, COUNT)]
