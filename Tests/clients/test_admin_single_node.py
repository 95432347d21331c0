"""Kafka's answers on a single broker: leader elections (confluent-kafka's AdminClient), partition reassignments
and DescribeGroups v6 on a consumer-protocol group (raw frames), and the topic-id versions of Produce (v13) and
OffsetCommit/OffsetFetch (v10) as raw frames."""
import struct
import time
import uuid

from confluent_kafka import Consumer, ElectionType, KafkaError, TopicCollection, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_wire import carray, cstring, flexible_exchange, record, record_batch, uvarint

TIMEOUT = 15
ELECTION_NOT_NEEDED, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID = 84, 3, 100
NO_REASSIGNMENT_IN_PROGRESS, INVALID_REPLICA_ASSIGNMENT, INVALID_REPLICATION_FACTOR = 85, 39, 38
GROUP_ID_NOT_FOUND = 69


def admin_for(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def create(admin, name, partitions=1):
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=TIMEOUT)


def topic_id(admin, name):
    described = admin.describe_topics(TopicCollection([name]))[name].result(timeout=TIMEOUT)
    identity = described.topic_id
    return struct.pack(">qq", identity.get_most_significant_bits(), identity.get_least_significant_bits())


def test_elect_leaders_answers_election_not_needed(broker):
    admin = admin_for(broker)
    create(admin, "elect", partitions=2)
    for election in (ElectionType.PREFERRED, ElectionType.UNCLEAN):
        results = admin.elect_leaders(election, [TopicPartition("elect", 0), TopicPartition("elect", 1),
                                                 TopicPartition("elect", 5)]).result(timeout=TIMEOUT)
        errors = {tp.partition: error for tp, error in results.items()}
        assert errors[0].code() == KafkaError.ELECTION_NOT_NEEDED
        assert errors[1].code() == KafkaError.ELECTION_NOT_NEEDED
        assert errors[5].code() == KafkaError.UNKNOWN_TOPIC_OR_PART
    # Every partition: none needs an election, so none is reported.
    assert admin.elect_leaders(ElectionType.PREFERRED, None).result(timeout=TIMEOUT) == {}


def reassign(port, topic, partition, replicas, allow=True):
    """AlterPartitionReassignments v1: (top error, [(partition, error, message)])."""
    body = (struct.pack(">i?", 30_000, allow)
            + carray([cstring(topic) + carray([struct.pack(">i", partition) + carray(
                None if replicas is None else [struct.pack(">i", r) for r in replicas]) + b"\x00"]) + b"\x00"])
            + b"\x00")
    answer = flexible_exchange(port, 45, 1, body)
    answer.int(">i")  # throttle time
    assert answer.int(">?") == allow
    top = answer.int(">h"), answer.string()

    def partition_result():
        result = answer.int(">i"), answer.int(">h"), answer.string()
        answer.tags()
        return result

    def topic_result():
        answer.string()
        results = answer.array(partition_result)
        answer.tags()
        return results

    return top, answer.array(topic_result)[0]


def test_partition_reassignments_with_one_broker(broker):
    admin = admin_for(broker)
    create(admin, "move", partitions=1)
    assert reassign(broker.port, "move", 0, [0]) == ((0, None), [(0, 0, None)])
    assert reassign(broker.port, "move", 0, None)[1] == [(0, NO_REASSIGNMENT_IN_PROGRESS, None)]
    assert reassign(broker.port, "move", 0, [0, 1])[1] == [(0, INVALID_REPLICA_ASSIGNMENT,
        "The manual partition assignment includes broker 1, but no such broker is registered.")]
    assert reassign(broker.port, "move", 0, [0, 1], allow=False)[1] == [(0, INVALID_REPLICATION_FACTOR,
        "The replication factor is changed from 1 to 2")]
    assert reassign(broker.port, "gone", 0, [0])[1] == [(0, UNKNOWN_TOPIC_OR_PARTITION,
        "Unable to find a topic named gone.")]

    # ListPartitionReassignments v0: nothing is ever being reassigned.
    body = struct.pack(">i", 30_000) + b"\x00" + b"\x00"
    answer = flexible_exchange(broker.port, 46, 0, body)
    answer.int(">i")
    assert (answer.int(">h"), answer.string(), answer.array(lambda: None)) == (0, None, [])


def test_describe_groups_v6_answers_a_consumer_protocol_group_as_not_classic(broker):
    admin = admin_for(broker)
    create(admin, "dg6", partitions=2)
    member = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "dg6-g", "group.protocol": "consumer",
                       "auto.offset.reset": "earliest"})
    try:
        member.subscribe(["dg6"])
        deadline = time.time() + 30
        while not member.assignment() and time.time() < deadline:
            member.poll(0.1)
        assert member.assignment()
        for version in (5, 6):
            answer = flexible_exchange(broker.port, 15, version, carray([cstring("dg6-g")]) + b"\x00" + b"\x00")
            answer.int(">i")
            assert answer.uvarint() == 2
            error = answer.int(">h")
            message = answer.string() if version >= 6 else None
            group_id, state = answer.string(), answer.string()
            assert group_id == "dg6-g" and state == "Dead"
            if version == 6:
                assert (error, message) == (GROUP_ID_NOT_FOUND, "Group dg6-g is not a classic group.")
            else:
                assert error == 0
        # The consumer protocol's own describe still sees the member.
        described = admin.describe_consumer_groups(["dg6-g"])["dg6-g"].result(timeout=TIMEOUT)
        assert len(described.members) == 1
    finally:
        member.close()


def produce_v13(port, topic_ids, records):
    body = (cstring(None) + struct.pack(">hi", 1, 30_000)
            + carray([identity + carray([struct.pack(">i", 0) + uvarint(len(records) + 1) + records + b"\x00"])
                      + b"\x00" for identity in topic_ids])
            + b"\x00")
    answer = flexible_exchange(port, 0, 13, body)

    def partition_result():
        index, error, base = answer.int(">i"), answer.int(">h"), answer.int(">q")
        answer.int(">q"), answer.int(">q")
        answer.array(lambda: (answer.int(">i"), answer.string(), answer.tags()))
        answer.string()
        answer.tags()
        return index, error, base

    def topic_result():
        identity = answer.take(16)
        results = answer.array(partition_result)
        answer.tags()
        return identity, results

    return answer.array(topic_result)


def test_produce_v13_and_offsets_v10_address_topics_by_id(broker):
    admin = admin_for(broker)
    create(admin, "byid", partitions=1)
    known = topic_id(admin, "byid")
    unknown = uuid.uuid4().bytes
    batch = record_batch([record(0, b"first"), record(1, b"second")])
    results = produce_v13(broker.port, [known, unknown], batch)
    assert results == [(known, [(0, 0, 0)]), (unknown, [(0, UNKNOWN_TOPIC_ID, -1)])]

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "byid-read", "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition("byid", 0, 0)])
        values = []
        deadline = time.time() + TIMEOUT
        while len(values) < 2 and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                values.append(message.value())
        assert values == [b"first", b"second"]
    finally:
        consumer.close()

    # OffsetCommit v10 by topic id, with a standalone (generation -1) commit.
    def commit_partition(partition, offset):
        return struct.pack(">iqi", partition, offset, -1) + cstring(None) + b"\x00"

    body = (cstring("byid-g") + struct.pack(">i", -1) + cstring("") + cstring(None)
            + carray([known + carray([commit_partition(0, 2)]) + b"\x00",
                      unknown + carray([commit_partition(0, 1)]) + b"\x00"])
            + b"\x00")
    answer = flexible_exchange(broker.port, 8, 10, body)
    answer.int(">i")

    def committed_partition():
        result = answer.int(">i"), answer.int(">h")
        answer.tags()
        return result

    def committed_topic():
        identity = answer.take(16)
        result = answer.array(committed_partition)
        answer.tags()
        return identity, result

    assert answer.array(committed_topic) == [(known, [(0, 0)]), (unknown, [(0, UNKNOWN_TOPIC_ID)])]

    # OffsetFetch v10 by topic id.
    body = (carray([cstring("byid-g") + cstring(None) + struct.pack(">i", -1)
                    + carray([known + carray([struct.pack(">i", 0)]) + b"\x00"]) + b"\x00"])
            + b"\x00" + b"\x00")
    answer = flexible_exchange(broker.port, 9, 10, body)
    answer.int(">i")

    def fetched_partition():
        result = answer.int(">i"), answer.int(">q")
        answer.int(">i"), answer.string()
        result += (answer.int(">h"),)
        answer.tags()
        return result

    def fetched_topic():
        identity = answer.take(16)
        result = answer.array(fetched_partition)
        answer.tags()
        return identity, result

    def fetched_group():
        group = answer.string()
        topics = answer.array(fetched_topic)
        error = answer.int(">h")
        answer.tags()
        return group, topics, error

    assert answer.array(fetched_group) == [("byid-g", [(known, [(0, 2, 0)])], 0)]
