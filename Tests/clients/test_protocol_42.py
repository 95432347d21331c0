"""The Kafka 4.2 versions of the APIs, as librdkafka 2.16 (confluent-kafka) negotiates them: list offsets by
special timestamps and by time inside compressed batches, produce and consume, committed offsets, describe topics
and the cluster."""
import socket
import struct

from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec
from kafka_wire import Reader, read_response, uvarint

TIMEOUT = 10
BASE = 1_700_000_000_000


def admin_for(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap, "socket.timeout.ms": 10000})


def create(admin, name, partitions=1):
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=TIMEOUT)


def produce_batch(broker, topic, timestamps, compression="gzip"):
    """Produces one message per timestamp, lingering so that they travel as one compressed batch."""
    producer = Producer({"bootstrap.servers": broker.bootstrap, "compression.type": compression,
                         "linger.ms": 200, "batch.num.messages": 10_000, "message.timeout.ms": 10000})
    delivered = []
    for index, timestamp in enumerate(timestamps):
        producer.produce(topic, value=b"v%d" % index, partition=0, timestamp=timestamp,
                         on_delivery=lambda error, message: delivered.append((error, message.offset())))
    assert producer.flush(TIMEOUT) == 0
    assert all(error is None for error, _ in delivered)
    return sorted(offset for _, offset in delivered)


def list_offsets(admin, topic, spec):
    partition = TopicPartition(topic, 0)
    result = admin.list_offsets({partition: spec}, request_timeout=TIMEOUT)[partition].result(timeout=TIMEOUT)
    return result.offset, result.timestamp


def test_list_offsets_by_special_timestamps_and_inside_compressed_batches(broker):
    admin = admin_for(broker)
    create(admin, "lo42")
    assert produce_batch(broker, "lo42", [BASE + 100 * index for index in range(8)]) == list(range(8))
    # Out of order inside the second batch: the max timestamp (BASE + 1000) is held by offsets 9 and 10; the first
    # counts.
    assert produce_batch(broker, "lo42", [BASE + 800, BASE + 1000, BASE + 1000, BASE + 900], "lz4") == [8, 9, 10, 11]

    assert list_offsets(admin, "lo42", OffsetSpec.earliest())[0] == 0
    assert list_offsets(admin, "lo42", OffsetSpec.latest())[0] == 12
    assert list_offsets(admin, "lo42", OffsetSpec.max_timestamp()) == (9, BASE + 1000)
    # By time: the first record at least that new, found inside the compressed batch, with its own timestamp.
    assert list_offsets(admin, "lo42", OffsetSpec.for_timestamp(BASE + 150)) == (2, BASE + 200)
    assert list_offsets(admin, "lo42", OffsetSpec.for_timestamp(BASE + 700)) == (7, BASE + 700)
    assert list_offsets(admin, "lo42", OffsetSpec.for_timestamp(BASE + 850)) == (9, BASE + 1000)
    assert list_offsets(admin, "lo42", OffsetSpec.for_timestamp(BASE + 1001))[0] == -1

    # The consumer's offsets_for_times asks the same way.
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "lo42-g"})
    try:
        found = consumer.offsets_for_times([TopicPartition("lo42", 0, BASE + 250)], timeout=TIMEOUT)
        assert found[0].offset == 3
    finally:
        consumer.close()


def test_produce_consume_commit_and_describe_with_the_newest_versions(broker):
    admin = admin_for(broker)
    create(admin, "pc42", partitions=2)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "message.timeout.ms": 10000})
    for index in range(20):
        producer.produce("pc42", value=b"m%d" % index, partition=index % 2)
    assert producer.flush(TIMEOUT) == 0

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "pc42-g", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False})
    try:
        consumer.subscribe(["pc42"])
        values = set()
        while len(values) < 20:
            message = consumer.poll(TIMEOUT)
            assert message is not None, f"only {len(values)} messages consumed"
            assert message.error() is None, message.error()
            values.add(message.value())
        assert values == {b"m%d" % index for index in range(20)}
        consumer.commit(offsets=[TopicPartition("pc42", 0, 7), TopicPartition("pc42", 1, 9)], asynchronous=False)
        committed = consumer.committed([TopicPartition("pc42", 0), TopicPartition("pc42", 1)], timeout=TIMEOUT)
        assert [(entry.partition, entry.offset) for entry in committed] == [(0, 7), (1, 9)]
    finally:
        consumer.close()

    topic = admin.describe_topics(TopicCollection(["pc42"]))["pc42"].result(timeout=TIMEOUT)
    assert [partition.id for partition in topic.partitions] == [0, 1]
    assert all(partition.leader.id == 0 for partition in topic.partitions)
    cluster = admin.describe_cluster(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert [node.id for node in cluster.nodes] == [0] and cluster.controller.id == 0

    offsets = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions("pc42-g")])["pc42-g"].result(timeout=TIMEOUT)
    assert sorted((entry.partition, entry.offset) for entry in offsets.topic_partitions) == [(0, 7), (1, 9)]


def describe_topic_partitions(port, topics, limit, cursor=None):
    """A raw DescribeTopicPartitions v0 exchange: ([(topic, [partitions])], next cursor)."""
    body = uvarint(len(topics) + 1)
    for name in topics:
        body += uvarint(len(name) + 1) + name.encode() + b"\x00"
    body += struct.pack(">i", limit)
    if cursor is None:
        body += struct.pack(">b", -1)
    else:
        body += struct.pack(">b", 1) + uvarint(len(cursor[0]) + 1) + cursor[0].encode() + struct.pack(">i", cursor[1]) + b"\x00"
    body += b"\x00"
    header = struct.pack(">hhih", 75, 0, 7, 3) + b"raw" + b"\x00"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        answer = Reader(read_response(sock))
    assert answer.int(">i") == 7
    answer.tags()
    answer.int(">i")  # throttle time
    described = []
    for _ in range(answer.uvarint() - 1):
        error, name = answer.int(">h"), answer.string()
        answer.take(17)  # topic id, is internal
        partitions = []
        for _ in range(answer.uvarint() - 1):
            answer.int(">h")
            partitions.append(answer.int(">i"))
            answer.take(8)  # leader, leader epoch
            for _ in range(5):
                answer.array(lambda: answer.int(">i"))
            answer.tags()
        answer.int(">i")
        answer.tags()
        described.append((name, error, partitions))
    next_cursor = None
    if answer.int(">b") == 1:
        next_cursor = (answer.string(), answer.int(">i"))
        answer.tags()
    return described, next_cursor


def test_describe_topic_partitions_pages_with_its_cursor(broker):
    admin = admin_for(broker)
    create(admin, "dtp-a", partitions=3)
    create(admin, "dtp-b", partitions=2)
    described, cursor = describe_topic_partitions(broker.port, ["dtp-b", "dtp-a", "dtp-none"], 4)
    assert described == [("dtp-a", 0, [0, 1, 2]), ("dtp-b", 0, [0])] and cursor == ("dtp-b", 1)
    described, cursor = describe_topic_partitions(broker.port, ["dtp-b", "dtp-a", "dtp-none"], 4, cursor)
    assert described == [("dtp-b", 0, [1]), ("dtp-none", 3, [])] and cursor is None
