"""Transactional produce against idempotent produce, and read_committed consume against read_uncommitted, in one
run on one broker (confluent-kafka / librdkafka). Usage: python transactions_bench.py BOOTSTRAP [RECORDS] [ROUNDS]

A warm-up round is run and discarded; then each round produces to fresh topics and consumes them, alternating
which case goes first, and the median of the rounds is reported for each case."""
import statistics
import sys
import time
import uuid

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

PAYLOAD = b"x" * 1024
PER_TRANSACTION = 1000


def create(bootstrap, name):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)]).values():
        future.result(30)


def produce(bootstrap, topic, records, transactional):
    config = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5, "batch.size": 1 << 20}
    if transactional:
        config["transactional.id"] = f"bench-{uuid.uuid4()}"
    producer = Producer(config)
    if transactional:
        producer.init_transactions(30)
    started = time.perf_counter()
    for start in range(0, records, PER_TRANSACTION):
        if transactional:
            producer.begin_transaction()
        for _ in range(min(PER_TRANSACTION, records - start)):
            while True:
                try:
                    producer.produce(topic, PAYLOAD, partition=0)
                    break
                except BufferError:
                    producer.poll(0.01)
        if transactional:
            producer.commit_transaction(60)
    producer.flush(60)
    return records * len(PAYLOAD) / (time.perf_counter() - started) / 1e6


def consume(bootstrap, topic, records, isolation):
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                         "isolation.level": isolation, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    seen = 0
    started = time.perf_counter()
    while seen < records:
        for message in consumer.consume(10000, 1.0):
            if not message.error():
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return records * len(PAYLOAD) / elapsed / 1e6


def round_of(bootstrap, records, transactional_first):
    """One round: (idempotent, transactional, read_uncommitted, read_committed) MB/s on fresh topics."""
    idempotent_topic, transactional_topic = f"bench-idem-{uuid.uuid4().hex[:6]}", f"bench-txn-{uuid.uuid4().hex[:6]}"
    create(bootstrap, idempotent_topic)
    create(bootstrap, transactional_topic)
    if transactional_first:
        transactional = produce(bootstrap, transactional_topic, records, True)
        idempotent = produce(bootstrap, idempotent_topic, records, False)
        committed = consume(bootstrap, transactional_topic, records, "read_committed")
        uncommitted = consume(bootstrap, transactional_topic, records, "read_uncommitted")
    else:
        idempotent = produce(bootstrap, idempotent_topic, records, False)
        transactional = produce(bootstrap, transactional_topic, records, True)
        uncommitted = consume(bootstrap, transactional_topic, records, "read_uncommitted")
        committed = consume(bootstrap, transactional_topic, records, "read_committed")
    return idempotent, transactional, uncommitted, committed


def main():
    bootstrap = sys.argv[1]
    records = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    round_of(bootstrap, min(records, 10_000), False)
    results = [round_of(bootstrap, records, index % 2 == 1) for index in range(rounds)]
    for index, (idempotent, transactional, uncommitted, committed) in enumerate(results):
        print(f"round {index + 1}: idempotent {idempotent:.1f}, transactional {transactional:.1f} MB/s; "
              f"read_uncommitted {uncommitted:.1f}, read_committed {committed:.1f} MB/s")
    idempotent, transactional, uncommitted, committed = (statistics.median(column) for column in zip(*results))
    print(f"median of {rounds} rounds:")
    print(f"produce 1 KiB idempotent    {idempotent:8.1f} MB/s")
    print(f"produce 1 KiB transactional {transactional:8.1f} MB/s  ratio {transactional / idempotent:.2f}")
    print(f"consume read_uncommitted    {uncommitted:8.1f} MB/s")
    print(f"consume read_committed      {committed:8.1f} MB/s  ratio {committed / uncommitted:.2f}")


if __name__ == "__main__":
    main()
