#!/usr/bin/env python3
"""Runs the librdkafka comparison matrix against one or two brokers and prints a side-by-side table.

Invoked by Benchmarks/compare.sh, which builds rdkafka_driver first. For every case it records the driver's
figures, the broker process's CPU seconds (utime + stime from /proc/<pid>/stat, the pid found from the socket
listening on the bootstrap port) and its peak RSS (VmHWM, reset through /proc/<pid>/clear_refs before each case
where the kernel allows it), sampling RssAnon and RssFile every 20 ms. Each case starts after sync(2), so
writeback of earlier cases does not land in it.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def matrix(scale, latency_seconds):
    """The fixed matrix: (name, kind, parameters)."""
    def n(count):
        return max(100, int(count * scale))
    produce = [
        ("produce 100 B x 2M acks=1", "p100", 100, n(2_000_000), "1", "none"),
        ("produce 1 KiB x 500k acks=1", "p1k", 1024, n(500_000), "1", "none"),
        ("produce 1 KiB x 500k acks=all", "p1k-all", 1024, n(500_000), "all", "none"),
        ("produce 100 B x 2M lz4", "p100-lz4", 100, n(2_000_000), "1", "lz4"),
        ("produce 100 B x 2M zstd", "p100-zstd", 100, n(2_000_000), "1", "zstd"),
    ]
    cases = [dict(name=name, kind="produce", topic=topic, size=size, count=count, acks=acks, compression=codec)
             for name, topic, size, count, acks, codec in produce]
    for case in list(cases):
        cases.append(dict(name="consume " + case["name"][len("produce "):], kind="consume", topic=case["topic"],
                          size=case["size"], count=case["count"]))
    for acks in ("1", "all"):
        cases.append(dict(name=f"ack latency 100 B @ 2,000 msg/s acks={acks}", kind="latency",
                          topic=f"lat-{acks}", size=100, rate=2000, seconds=latency_seconds, acks=acks))
    return cases


def listening_pid(port):
    """The pid of the process with a socket listening on `port` (via /proc/net/tcp*, then /proc/*/fd)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(fields[9])
        except OSError:
            pass
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return int(pid)
        except OSError:
            continue
    return None


class BrokerProcess:
    """CPU time and peak RSS of the broker process behind a bootstrap address."""

    def __init__(self, bootstrap):
        self.bootstrap = bootstrap
        self.pid = listening_pid(int(bootstrap.rsplit(":", 1)[1]))
        self.name = "?"
        if self.pid:
            with open(f"/proc/{self.pid}/comm") as f:
                self.name = f.read().strip()

    def cpu_seconds(self):
        if not self.pid:
            return None
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def reset_peak_rss(self):
        if not self.pid:
            return False
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    def rss_parts_mib(self):
        """Current (RssAnon, RssFile) in MiB: heap versus mapped file pages (segments, indexes)."""
        parts = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(("RssAnon:", "RssFile:")):
                    parts[line.split(":")[0]] = int(line.split()[1]) / 1024
        return parts.get("RssAnon", 0), parts.get("RssFile", 0)

    def peak_rss_mib(self):
        if not self.pid:
            return None
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return None


def create_topics(bootstrap, topics, python):
    """Creates the run's topics with one partition (existing ones are fine), through confluent-kafka."""
    script = (
        "import sys\n"
        "from confluent_kafka.admin import AdminClient, NewTopic\n"
        "admin = AdminClient({'bootstrap.servers': sys.argv[1]})\n"
        "futures = admin.create_topics([NewTopic(t, 1, 1) for t in sys.argv[2:]], operation_timeout=30)\n"
        "for topic, future in futures.items():\n"
        "    try:\n"
        "        future.result(30)\n"
        "    except Exception as error:\n"
        "        if 'TOPIC_ALREADY_EXISTS' not in str(error):\n"
        "            raise\n")
    subprocess.run([python, "-c", script, bootstrap, *topics], check=True, timeout=120)


def run_case(driver, bootstrap, case, topic):
    if case["kind"] == "produce":
        arguments = ["produce", bootstrap, topic, str(case["size"]), str(case["count"]), case["acks"],
                     case["compression"]]
    elif case["kind"] == "consume":
        arguments = ["consume", bootstrap, topic, str(case["count"])]
    else:
        arguments = ["latency", bootstrap, topic, str(case["size"]), str(case["rate"]), str(case["seconds"]),
                     case["acks"]]
    completed = subprocess.run([driver, *arguments], capture_output=True, text=True, timeout=900)
    if completed.returncode != 0:
        raise RuntimeError(f"{case['name']} against {bootstrap} failed ({completed.returncode}): "
                           f"{completed.stdout}{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


class RssSampler(threading.Thread):
    """Samples the broker's anonymous and file-backed RSS every 20 ms and keeps the peaks."""

    def __init__(self, broker):
        super().__init__(daemon=True)
        self.broker, self.peak_anon, self.peak_file = broker, 0.0, 0.0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                anon, file = self.broker.rss_parts_mib()
            except OSError:
                return
            self.peak_anon, self.peak_file = max(self.peak_anon, anon), max(self.peak_file, file)
            self.stopping.wait(0.02)


def measure(driver, broker, case, topic):
    # Dirty pages left by earlier cases would be written back during this one (and every fsync would wait for
    # them): start each case with none.
    os.sync()
    broker.reset_peak_rss()
    sampler = RssSampler(broker) if broker.pid else None
    if sampler:
        sampler.start()
    cpu_before = broker.cpu_seconds()
    result = run_case(driver, broker.bootstrap, case, topic)
    cpu_after = broker.cpu_seconds()
    if sampler:
        sampler.stopping.set()
        sampler.join()
        result["peak_rss_anon_mib"], result["peak_rss_file_mib"] = sampler.peak_anon, sampler.peak_file
    result["cpu_s"] = None if cpu_before is None else cpu_after - cpu_before
    result["peak_rss_mib"] = broker.peak_rss_mib()
    if case["kind"] != "latency" and result["cpu_s"] is not None:
        result["cpu_s_per_gb"] = result["cpu_s"] / (result["bytes"] / 1e9) if result["bytes"] else None
    return result


def rows_for(case, results):
    """Table rows (metric, values per broker) for one case."""
    def pick(key, digits):
        return [None if r.get(key) is None else round(r[key], digits) for r in results]
    memory = [("peak RSS MiB", pick("peak_rss_mib", 1)), ("  of it anon MiB", pick("peak_rss_anon_mib", 1)),
              ("  of it file MiB", pick("peak_rss_file_mib", 1))]
    if case["kind"] == "latency":
        return [("p50 ms", pick("p50_ms", 3)), ("p99 ms", pick("p99_ms", 3)), ("p99.9 ms", pick("p999_ms", 3)),
                ("CPU s", pick("cpu_s", 2))] + memory
    return [("MB/s", pick("mb_per_sec", 1)), ("msgs/s", pick("msgs_per_sec", 0)), ("CPU s", pick("cpu_s", 2)),
            ("CPU s/GB", pick("cpu_s_per_gb", 2))] + memory


def print_table(cases, results, brokers, markdown=False):
    names = [f"{b.name}@{b.bootstrap}" for b in brokers]
    header = ["case", "metric", *names] + (["ratio A/B"] if len(brokers) == 2 else [])
    lines = [header]
    for case in cases:
        for metric, values in rows_for(case, [results[b.bootstrap][case["name"]] for b in brokers]):
            row = [case["name"], metric, *["-" if v is None else f"{v:,}" for v in values]]
            row = [cell[:-2] if cell.endswith(".0") and metric == "msgs/s" else cell for cell in row]
            if len(brokers) == 2:
                a, b = values
                row.append(f"{a / b:.2f}" if a is not None and b else "-")
            lines.append(row)
    if markdown:
        for index, line in enumerate(lines):
            print("| " + " | ".join(line) + " |")
            if index == 0:
                print("|" + "|".join("---" for _ in line) + "|")
        return
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        print("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(line)))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bootstraps", nargs="+", metavar="BOOTSTRAP", help="one or two host:port addresses")
    parser.add_argument("--driver", required=True, help="path of the built rdkafka_driver")
    parser.add_argument("--python", default=sys.executable, help="python with confluent-kafka (topic creation)")
    parser.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_SCALE", "1")),
                        help="multiply message counts (env BENCH_SCALE, default 1)")
    parser.add_argument("--latency-seconds", type=float,
                        default=float(os.environ.get("BENCH_LATENCY_SECONDS", "10")),
                        help="length of each ack-latency case (env BENCH_LATENCY_SECONDS, default 10)")
    parser.add_argument("--json", default=os.environ.get("BENCH_JSON"), help="also write every figure here")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = parser.parse_args()
    if len(args.bootstraps) > 2:
        parser.error("at most two brokers")
    cases = matrix(args.scale, args.latency_seconds)
    brokers = [BrokerProcess(b) for b in args.bootstraps]
    run_id = time.strftime("%H%M%S")
    topics = {case["topic"]: f"cmp-{run_id}-{case['topic']}" for case in cases}
    for broker in brokers:
        if not broker.pid:
            print(f"note: no local process listens on {broker.bootstrap}; CPU and RSS not measured", file=sys.stderr)
        create_topics(broker.bootstrap, sorted(set(topics.values())), args.python)
    results = {b.bootstrap: {} for b in brokers}
    for case in cases:
        for broker in brokers:
            print(f"... {case['name']} against {broker.bootstrap}", file=sys.stderr, flush=True)
            results[broker.bootstrap][case["name"]] = measure(args.driver, broker, case, topics[case["topic"]])
            if case["kind"] == "consume":
                got = results[broker.bootstrap][case["name"]]["messages"]
                if got != case["count"]:
                    raise RuntimeError(f"{case['name']}: consumed {got} of {case['count']}")
    print_table(cases, results, brokers, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": cases, "brokers": [dict(bootstrap=b.bootstrap, pid=b.pid, name=b.name)
                                                   for b in brokers], "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
