"""The log cleaner benchmark (see Benchmarks/compaction.sh).

1. Set-up, on a broker with the cleaner off: DIRTY_TOPICS compacted topics (segment.bytes 16 MiB) are each filled
   with DIRTY_MB of 1 KiB values over keys of which 10 % are distinct, and an empty topic `load` is created. The
   data directory is then kept as a pristine copy.
2. PAIRS pairs of runs, each run on a broker started on a fresh copy of the pristine directory (page cache
   synced, then WARM_GIB GiB of memory touched and freed, see warm_memory): librdkafka (`rdkafka_driver
   produce-for`, acks=1, no compression) produces 1 KiB messages to `load` for PRODUCE_SECONDS (odd pairs in
   this order, even pairs in the opposite order),
   - with the cleaner off (produce alone),
   - with the cleaner on (one thread, default dedupe buffer, backoff 100 ms): it starts on the dirty topics
     as the broker starts and has more dirty data than it can clean during the produce phase, so it cleans for
     the whole phase (the run checks this and reports it as `overlap`).
   Each pair gives a ratio produce-while-cleaning / produce-alone; the result is the median of the ratios.
3. The cleaner's log lines, stamped as they appear, give its rounds: the dirty bytes of the rounds finished
   during the produce phase over the phase's length (cleaner MB/s while producing), and of the rounds that ran
   after it (cleaner MB/s on an idle broker).
4. Keep-up run (KEEP_UP_SECONDS, 0 to skip): on an empty broker with the cleaner on, librdkafka
   (`rdkafka_driver produce-keyed-for`) saturates a compacted topic (segment.bytes 16 MiB) with 1 KiB values over
   KEYS keys. Reported: produced MB/s, cleaned MB/s (payload bytes of the offsets the cleaner's rounds covered
   during the phase; the round still running when the phase ends is not counted), the steady-state cleaned MB/s
   (the offsets of every round after the first over the time from the first round's end to the last's: a cleaner
   that keeps up cleans what was written meanwhile, so its ratio to the produced MB/s is about 1, and one that
   does not falls further behind at every round), the share of that time spent in rounds, what was left uncleaned
   when the phase ended, and the topic's size on disk (sampled every 0.5 s) against the bytes produced.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Broker:
    """A portaskd process whose log lines are read as they appear and stamped with time.monotonic()."""

    def __init__(self, binary, data, log_path, overrides):
        self.port = free_port()
        self.log_path = log_path
        self.lines = []
        arguments = [binary, "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                     "--override", f"log.dirs={data}"]
        for name, value in overrides.items():
            arguments += ["--override", f"{name}={value}"]
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("portaskd did not start")

    def _read(self):
        for line in self.process.stdout:
            self.lines.append((time.monotonic(), line.decode(errors="replace")))
            self.log.write(line)

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.port}"

    def peak_rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None

    def cleaner_rounds(self):
        """The cleaning rounds logged so far: (time logged, fields)."""
        rounds = []
        for stamp, line in list(self.lines):
            if "cleaned log" not in line:
                continue
            fields = dict(re.findall(r"(\w+)=(\S+)", line))
            rounds.append((stamp, fields))
        return rounds

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.reader.join(10)
        self.log.close()


def produce_for(driver, bootstrap, topic, seconds):
    completed = subprocess.run([driver, "produce-for", bootstrap, topic, "1024", str(seconds), "1", "none"],
                               capture_output=True, text=True, timeout=900, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def fill_dirty_topics(bootstrap, topics, dirty_mb):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1 << 20,
                         "queue.buffering.max.messages": 1_000_000})
    records = dirty_mb * 1024
    distinct = max(records // 10, 1)
    value = b"v" * 1000
    for topic in topics:
        for index in range(records):
            while True:
                try:
                    producer.produce(topic, key=b"key-%08d" % (index % distinct), value=value)
                    break
                except BufferError:
                    producer.poll(0.05)
    producer.flush(300)
    del producer


def warm_memory(gib):
    """Touches GIB GiB of fresh memory and frees it. On a VM whose balloon takes idle free memory back from the
    guest (free page reporting), the first write to such a page faults into the host, so a run that allocates
    page cache from reported memory is slower than one that reuses pages just freed (the cleaner frees the
    segments it replaces): touching the memory first gives both runs of a pair the same start."""
    size = int(gib * (1 << 30))
    if size <= 0:
        return
    block = bytearray(size)
    block[::4096] = b"\x01" * len(range(0, size, 4096))
    del block


def restore(pristine, data, warm_gib):
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["cp", "-a", str(pristine), str(data)], check=True)
    os.sync()
    warm_memory(warm_gib)


def cleaning_run(args, pristine, data, log_path, dirty_sizes):
    restore(pristine, data, args.warm_gib)
    broker = Broker(args.portaskd, data, log_path, {"log.cleaner.backoff.ms": "100"})
    broker_started = time.monotonic()
    produce_started = time.monotonic()
    during = produce_for(args.driver, broker.bootstrap, "load", args.produce_seconds)
    produce_ended = time.monotonic()
    # Every dirty topic cleaned once (each fits one round), or ten minutes.
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        cleaned = {fields.get("partition") for _, fields in broker.cleaner_rounds()}
        if all(f"{name}-0" in cleaned for name in dirty_sizes):
            break
        time.sleep(0.2)
    rounds = broker.cleaner_rounds()
    peak = broker.peak_rss_mib()
    broker.stop()
    after_bytes = sum(path.stat().st_size for name in dirty_sizes for path in (data / f"{name}-0").glob("*.log"))

    def dirty_of(fields):
        return next((size for name, size in dirty_sizes.items() if fields.get("partition") == f"{name}-0"), 0)

    in_phase = [(stamp, fields) for stamp, fields in rounds if stamp <= produce_ended]
    after = [(stamp, fields) for stamp, fields in rounds if stamp > produce_ended]
    phase_seconds = produce_ended - broker_started
    cleaned_in_phase = sum(dirty_of(fields) for _, fields in in_phase)
    # Rounds that began after the produce phase ended ran on an idle broker.
    idle = [(stamp, fields) for stamp, fields in after if stamp - int(fields["ms"]) / 1000 >= produce_ended]
    idle_bytes = sum(dirty_of(fields) for _, fields in idle)
    idle_ms = sum(int(fields["ms"]) for _, fields in idle)
    return {
        "produce": during,
        "produce_seconds": produce_ended - produce_started,
        "overlap": bool(after),
        "rounds_during_produce": len(in_phase),
        "rounds_after_produce": len(after),
        "cleaner_mb_per_sec_while_producing": cleaned_in_phase / 1e6 / phase_seconds,
        "cleaner_mb_per_sec_idle": idle_bytes / 1e6 / (idle_ms / 1000) if idle_ms else None,
        "cleaner_bytes_read": sum(int(fields["bytesRead"]) for _, fields in rounds),
        "cleaner_bytes_written": sum(int(fields["bytesWritten"]) for _, fields in rounds),
        "map_bytes_max": max((int(fields["mapBytes"]) for _, fields in rounds), default=0),
        "dirty_bytes_after": after_bytes,
        "broker_peak_rss_mib": peak,
    }


def keep_up_run(args, work, log_path):
    data = work / "keepup"
    broker = Broker(args.portaskd, data, log_path, {"log.cleaner.backoff.ms": "100"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = NewTopic("keyed", 1, 1, config={"cleanup.policy": "compact", "segment.bytes": str(16 << 20)})
    for future in admin.create_topics([topic]).values():
        future.result(30)
    del admin
    sizes = []
    sampling = threading.Event()

    def sample():
        while not sampling.wait(0.5):
            try:
                sizes.append(sum(path.stat().st_size for path in (data / "keyed-0").glob("*.log")))
            except FileNotFoundError:
                pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    completed = subprocess.run([args.driver, "produce-keyed-for", broker.bootstrap, "keyed", "1024",
                                str(args.keep_up_seconds), "1", str(args.keep_up_keys)],
                               capture_output=True, text=True, timeout=900, check=True)
    produced = json.loads(completed.stdout.strip().splitlines()[-1])
    ended = time.monotonic()
    sampling.set()
    sampler.join(5)
    rounds = [(stamp, fields) for stamp, fields in broker.cleaner_rounds() if fields.get("partition") == "keyed-0"]
    during = [fields for stamp, fields in rounds if stamp <= ended]
    stamps = [stamp for stamp, fields in rounds if stamp <= ended]
    # Steady state: the offsets of the rounds after the first over the time between the first round's end and the
    # last's. A cleaner that keeps up cleans, round after round, what the producer wrote meanwhile (ratio ~1 to the
    # produced rate); one that does not falls further behind at every round (ratio < 1).
    steady_offsets = sum(int(fields["toOffset"]) - int(fields["fromOffset"]) for fields in during[1:])
    steady_seconds = stamps[-1] - stamps[0] if len(stamps) >= 2 else 0
    cleaned_to = max((int(fields["toOffset"]) for fields in during), default=0)
    cleaned_offsets = sum(int(fields["toOffset"]) - int(fields["fromOffset"]) for fields in during)
    seconds = ended - started
    size_at_end = sizes[-1] if sizes else None
    broker.stop()
    shutil.rmtree(data, ignore_errors=True)
    return {
        "produce": produced,
        "keys": args.keep_up_keys,
        "seconds": seconds,
        "produced_mb_per_sec": produced["messages"] * 1024 / 1e6 / seconds,
        "cleaned_mb_per_sec": cleaned_offsets * 1024 / 1e6 / seconds,
        "steady_cleaned_mb_per_sec":
            steady_offsets * 1024 / 1e6 / steady_seconds if steady_seconds > 0 else None,
        "steady_busy_share": sum(int(fields["ms"]) for fields in during[1:]) / 1000 / steady_seconds
            if steady_seconds > 0 else None,
        "rounds": len(during),
        "paused_ms": sum(int(fields.get("pausedMs", 0)) for fields in during),
        "uncleaned_at_end_mb": (produced["messages"] - cleaned_to) * 1024 / 1e6,
        "max_size_mb": max(sizes) / 1e6 if sizes else None,
        "size_at_end_mb": size_at_end / 1e6 if size_at_end is not None else None,
        "produced_mb": produced["messages"] * 1024 / 1e6,
    }


def alone_run(args, pristine, data, log_path):
    restore(pristine, data, args.warm_gib)
    broker = Broker(args.portaskd, data, log_path, {"log.cleaner.enable": "false"})
    result = produce_for(args.driver, broker.bootstrap, "load", args.produce_seconds)
    broker.stop()
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--portaskd", required=True)
    parser.add_argument("--dirty-mb", type=int, default=128, help="MB of dirty data per dirty topic")
    parser.add_argument("--dirty-topics", type=int, default=48)
    parser.add_argument("--produce-seconds", type=float, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--warm-gib", type=float, default=8,
                        help="GiB of memory touched and freed before each run (0: none)")
    parser.add_argument("--keep-up-seconds", type=float, default=20)
    parser.add_argument("--keep-up-keys", type=int, default=100_000)
    parser.add_argument("--work", help="directory for the data (default: a new temporary directory)")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="portask-compaction-bench-", dir=args.work))
    pristine, data, log_path = work / "pristine", work / "data", work / "portaskd.log"
    names = [f"dirty{index}" for index in range(args.dirty_topics)]
    try:
        broker = Broker(args.portaskd, pristine, log_path, {"log.cleaner.enable": "false"})
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topics = [NewTopic(name, 1, 1, config={"cleanup.policy": "compact", "segment.bytes": str(16 << 20)})
                  for name in names] + [NewTopic("load", 1, 1)]
        for future in admin.create_topics(topics).values():
            future.result(30)
        del admin
        fill_dirty_topics(broker.bootstrap, names, args.dirty_mb)
        time.sleep(0.2)
        broker.stop()
        dirty_sizes = {name: sum(path.stat().st_size for path in (pristine / f"{name}-0").glob("*.log"))
                       for name in names}
        pairs = []
        for index in range(args.pairs):
            # The order alternates (alone first, then cleaning first, ...), so a drift of the machine during the
            # benchmark does not favour one side.
            if index % 2 == 0:
                alone = alone_run(args, pristine, data, log_path)
                cleaning = cleaning_run(args, pristine, data, log_path, dirty_sizes)
            else:
                cleaning = cleaning_run(args, pristine, data, log_path, dirty_sizes)
                alone = alone_run(args, pristine, data, log_path)
            ratio = cleaning["produce"]["msgs_per_sec"] / alone["msgs_per_sec"]
            pairs.append({"pair": index + 1, "alone": alone, "cleaning": cleaning, "ratio": ratio})
            print(json.dumps({"pair": index + 1, "alone_mb_per_sec": alone["mb_per_sec"],
                              "cleaning_mb_per_sec": cleaning["produce"]["mb_per_sec"], "ratio": round(ratio, 3),
                              "cleaner_mb_per_sec_while_producing":
                                  round(cleaning["cleaner_mb_per_sec_while_producing"], 1),
                              "cleaner_mb_per_sec_idle": cleaning["cleaner_mb_per_sec_idle"],
                              "overlap": cleaning["overlap"]}), flush=True)
        shutil.rmtree(data, ignore_errors=True)
        keep_up = keep_up_run(args, work, log_path) if args.keep_up_seconds > 0 else None
        if keep_up:
            print(json.dumps({"keep_up": keep_up}), flush=True)
        result = {
            "keep_up": keep_up,
            "dirty_topics": args.dirty_topics, "dirty_bytes_total": sum(dirty_sizes.values()),
            "produce_seconds": args.produce_seconds, "pairs": pairs,
            "median_ratio": statistics.median(pair["ratio"] for pair in pairs),
            "median_cleaner_mb_per_sec_while_producing":
                statistics.median(pair["cleaning"]["cleaner_mb_per_sec_while_producing"] for pair in pairs),
            "median_produce_alone_mb_per_sec": statistics.median(pair["alone"]["mb_per_sec"] for pair in pairs),
            "all_overlapped": all(pair["cleaning"]["overlap"] for pair in pairs),
        }
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
