"""The log cleaner benchmark (see Benchmarks/compaction.sh).

1. A broker with the cleaner off: a compacted topic is filled with DIRTY_MB of 1 KiB values over keys of which
   10 % are distinct (segment.bytes 16 MiB, then one more segment roll), and librdkafka produces PRODUCE_COUNT
   1 KiB messages to another topic: produce alone.
   The broker is restarted (page cache synced) before each measurement.
2. The same broker restarted with the cleaner on (one thread, default dedupe buffer): the cleaner starts on the
   dirty topic at once while librdkafka produces the same load again: produce during cleaning. The cleaner's own
   log lines give its rounds (bytes read, written, duration, offset map size); throughput = dirty bytes / time.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import tempfile
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    def __init__(self, binary, data, log_path, overrides):
        self.port = free_port()
        self.log_path = log_path
        arguments = [binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                     "--override", f"log.dirs={data}"]
        for name, value in overrides.items():
            arguments += ["--override", f"{name}={value}"]
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("portaskd did not start")

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def produce(driver, bootstrap, topic, count):
    completed = subprocess.run([driver, "produce", bootstrap, topic, "1024", str(count), "1", "none"],
                               capture_output=True, text=True, timeout=900, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def cleaner_rounds(log_path):
    rounds = []
    for line in pathlib.Path(log_path).read_text(errors="replace").splitlines():
        if "cleaned log" not in line or "dirty-0" not in line:
            continue
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        rounds.append({name: fields.get(name) for name in
                       ("bytesRead", "bytesWritten", "ms", "mapBytes", "mapFull", "recordsRead", "recordsKept")})
    return rounds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--portaskd", required=True)
    parser.add_argument("--dirty-mb", type=int, default=256)
    parser.add_argument("--produce-count", type=int, default=400_000)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="portask-compaction-bench-"))
    data, log_path = work / "data", work / "portaskd.log"
    try:
        broker = Broker(args.portaskd, data, log_path, {"log.cleaner.enable": "false"})
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topics = [NewTopic("dirty", 1, 1, config={"cleanup.policy": "compact", "segment.bytes": str(16 << 20)}),
                  NewTopic("load", 1, 1)]
        for future in admin.create_topics(topics).values():
            future.result(30)
        records = args.dirty_mb * 1024
        distinct = max(records // 10, 1)
        producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 20, "batch.size": 1 << 20,
                             "queue.buffering.max.messages": 1_000_000})
        value = b"v" * 1000
        for index in range(records):
            while True:
                try:
                    producer.produce("dirty", key=b"key-%08d" % (index % distinct), value=value)
                    break
                except BufferError:
                    producer.poll(0.05)
        producer.flush(120)
        time.sleep(0.2)
        # One more record after a roll point: everything before it becomes cleanable.
        dirty_bytes = sum(path.stat().st_size for path in (data / "dirty-0").glob("*.log"))
        broker.stop()
        # Both measurements start alike: a restarted broker, no dirty pages in the page cache.
        os.sync()
        broker = Broker(args.portaskd, data, log_path, {"log.cleaner.enable": "false"})
        alone = produce(args.driver, broker.bootstrap, "load", args.produce_count)
        broker.stop()
        os.sync()
        # Restart with the cleaner on: it starts on the dirty topic at once (its active segment stays uncleaned).
        broker = Broker(args.portaskd, data, log_path, {"log.cleaner.backoff.ms": "100"})
        started = time.time()
        during = produce(args.driver, broker.bootstrap, "load", args.produce_count)
        produce_end = time.time() - started
        deadline = time.time() + 600
        while time.time() < deadline:
            rounds = cleaner_rounds(log_path)
            if rounds:
                time.sleep(1.0)
                if cleaner_rounds(log_path) == rounds:
                    break
            time.sleep(0.2)
        rounds = cleaner_rounds(log_path)
        clean_ms = sum(int(entry["ms"]) for entry in rounds)
        peak = broker.peak_rss_mib()
        after_bytes = sum(path.stat().st_size for path in (data / "dirty-0").glob("*.log"))
        broker.stop()
        result = {
            "dirty_log_bytes": dirty_bytes, "after_clean_bytes": after_bytes, "cleaner_rounds": rounds,
            "cleaner_ms": clean_ms,
            "cleaner_mb_per_sec": dirty_bytes / 1e6 / (clean_ms / 1000) if clean_ms else None,
            "produce_alone": alone, "produce_during_cleaning": during,
            "produce_during_seconds": produce_end,
            "produce_ratio": during["msgs_per_sec"] / alone["msgs_per_sec"],
            "broker_peak_rss_mib": peak,
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
