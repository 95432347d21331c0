"""__consumer_offsets under the log cleaner: COMMITS offset commits spread over GROUPS groups (confluent-kafka,
asynchronous commits), with offsets.topic.segment.bytes = 1 MiB; then the topic's size on disk and the number of
records a start-up replays, before and after the cleaner ran.

    .venv/bin/python Benchmarks/compare/offsets_compaction.py [--portaskd .build/release/portaskd]
"""
import argparse
import json
import pathlib
import shutil
import tempfile
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from compaction_bench import Broker


def offsets_records(bootstrap):
    """Records stored in __consumer_offsets (what a start-up replays), read from the beginning."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "offsets-reader", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics("__consumer_offsets", timeout=10)
        partitions = list(metadata.topics["__consumer_offsets"].partitions)
        total = 0
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition("__consumer_offsets", partition), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition("__consumer_offsets", partition, low)])
            last = low - 1
            while last < high - 1:
                message = consumer.poll(2)
                if message is None:
                    break
                if not message.error():
                    total += 1
                    last = message.offset()
        return total
    finally:
        consumer.close()


def size(data):
    return sum(path.stat().st_size for path in data.glob("__consumer_offsets-*/*.log"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--portaskd", default=".build/release/portaskd")
    parser.add_argument("--commits", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=10)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="portask-offsets-bench-"))
    data = work / "data"
    try:
        overrides = {"offsets.topic.segment.bytes": "1048576", "log.cleaner.enable": "false"}
        broker = Broker(args.portaskd, data, work / "portaskd.log", overrides)
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        for future in admin.create_topics([NewTopic("events", 4, 1)]).values():
            future.result(30)
        consumers = [Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"group-{index}",
                               "enable.auto.commit": False}) for index in range(args.groups)]
        started = time.time()
        for commit in range(args.commits // args.groups):
            for consumer in consumers:
                consumer.commit(offsets=[TopicPartition("events", commit % 4, commit)], asynchronous=True)
            if commit % 100 == 0:
                for consumer in consumers:
                    consumer.poll(0)
        for consumer in consumers:
            consumer.commit(offsets=[TopicPartition("events", 0, 10**9)], asynchronous=False)
            consumer.close()
        commit_seconds = time.time() - started
        before = (size(data), offsets_records(broker.bootstrap))
        broker.stop()
        broker = Broker(args.portaskd, data, work / "portaskd.log", {"offsets.topic.segment.bytes": "1048576",
                                                                     "log.cleaner.backoff.ms": "200"})
        time.sleep(5)
        after = (size(data), offsets_records(broker.bootstrap))
        broker.stop()
        started = time.time()
        broker = Broker(args.portaskd, data, work / "portaskd.log", {"offsets.topic.segment.bytes": "1048576"})
        restart_seconds = time.time() - started
        broker.stop()
        print(json.dumps({"commits": args.commits, "groups": args.groups, "commit_seconds": commit_seconds,
                          "bytes_before_cleaning": before[0], "records_before_cleaning": before[1],
                          "bytes_after_cleaning": after[0], "records_after_cleaning": after[1],
                          "restart_to_listening_seconds": restart_seconds}, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
