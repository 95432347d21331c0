"""Share-consumer throughput against a classic consumer group, and redelivery latency after RELEASE, in one run on
one broker (confluent-kafka / librdkafka). The broker must run with group.share.auto.offset.reset=earliest.
Usage: python share_groups_bench.py BOOTSTRAP [RECORDS]"""
import sys
import threading
import time
import uuid

from confluent_kafka import AcknowledgeType, Consumer, Producer, ShareConsumer
from confluent_kafka.admin import AdminClient, NewTopic

PAYLOAD = b"x" * 1024


def create(bootstrap, name):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)]).values():
        future.result(30)


def produce(bootstrap, topic, records):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.size": 1 << 20})
    for _ in range(records):
        while True:
            try:
                producer.produce(topic, PAYLOAD, partition=0)
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(60)


def classic(bootstrap, topic, records):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"classic-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": True})
    consumer.subscribe([topic])
    seen = 0
    started = None
    while seen < records:
        for message in consumer.consume(1000, 1.0):
            if message.error() is None:
                started = started or time.perf_counter()
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return records * len(PAYLOAD) / elapsed / 1e6


def shared(bootstrap, topic, records, consumers):
    group = f"share-{uuid.uuid4()}"
    lock = threading.Lock()
    state = {"seen": 0, "started": None}
    done = threading.Event()

    def run():
        consumer = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group})
        consumer.subscribe([topic])
        while not done.is_set():
            batch = consumer.poll(0.5)
            count = sum(1 for message in batch if message.error() is None)
            if count:
                with lock:
                    state["started"] = state["started"] or time.perf_counter()
                    state["seen"] += count
                    if state["seen"] >= records:
                        state["ended"] = time.perf_counter()
                        done.set()
        consumer.close()

    threads = [threading.Thread(target=run) for _ in range(consumers)]
    for thread in threads:
        thread.start()
    done.wait(600)
    for thread in threads:
        thread.join(60)
    return records * len(PAYLOAD) / (state["ended"] - state["started"]) / 1e6


def redelivery_latency(bootstrap, topic, rounds=20):
    """Per round: one new record is delivered and RELEASEd; the time from the release's commit to its
    redelivery is measured, then it is accepted."""
    consumer = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": f"redeliver-{uuid.uuid4()}",
                              "share.acknowledgement.mode": "explicit"})
    consumer.subscribe([topic])
    producer = Producer({"bootstrap.servers": bootstrap})
    latencies = []
    for _ in range(rounds):
        producer.produce(topic, PAYLOAD, partition=0)
        producer.flush(10)
        batch = []
        while not batch:
            batch = [m for m in consumer.poll(1.0) if m.error() is None]
        for message in batch:
            consumer.acknowledge(message, AcknowledgeType.RELEASE)
        consumer.commit_sync(10)
        released_at = time.perf_counter()
        again = []
        while not again:
            again = [m for m in consumer.poll(1.0) if m.error() is None]
        latencies.append(time.perf_counter() - released_at)
        for message in again:
            consumer.acknowledge(message, AcknowledgeType.ACCEPT)
        consumer.commit_sync(10)
    consumer.close()
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[-1]


def main():
    bootstrap = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    topic = f"bench-{uuid.uuid4()}"
    create(bootstrap, topic)
    produce(bootstrap, topic, records)
    base = classic(bootstrap, topic, records)
    print(f"classic consumer group: {base:.1f} MB/s")
    for consumers in (1, 3):
        rate = shared(bootstrap, topic, records, consumers)
        print(f"share group, {consumers} consumer(s): {rate:.1f} MB/s (ratio {rate / base:.2f})")
    small = f"redeliver-{uuid.uuid4()}"
    create(bootstrap, small)
    median, worst = redelivery_latency(bootstrap, small)
    print(f"redelivery after RELEASE: median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()
