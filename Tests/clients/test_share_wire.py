"""Share group APIs as raw frames (KIP-932 layouts from Kafka 4.2's schemas): ShareGroupHeartbeat and
ShareGroupDescribe, a share group surviving a broker SIGKILL through its records in __consumer_offsets,
Describe/Alter/DeleteShareGroupOffsets, ShareFetch and ShareAcknowledge from a member id the group does not know,
and DeleteGroups removing a share group's group configs."""
import signal
import socket
import struct
import uuid

from confluent_kafka import Producer
from confluent_kafka import TopicCollection
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                   NewTopic, ResourceType)

from kafka_wire import Reader, carray, cstring, flexible_exchange, read_response

SHARE_GROUP_HEARTBEAT, SHARE_GROUP_DESCRIBE = 76, 77
DESCRIBE_OFFSETS, ALTER_OFFSETS, DELETE_OFFSETS = 90, 91, 92
NONE, UNKNOWN_TOPIC_OR_PARTITION, OFFSET_OUT_OF_RANGE, GROUP_ID_NOT_FOUND = 0, 3, 1, 69
FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, NON_EMPTY_GROUP = 110, 25, 68
SHARE_FETCH, SHARE_ACKNOWLEDGE = 78, 79
INVALID_RECORD_STATE, INVALID_SHARE_SESSION_EPOCH = 121, 123
ACCEPT = 1


def create_topic(bootstrap, name, partitions=1):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(10)


def produce(bootstrap, topic, count):
    producer = Producer({"bootstrap.servers": bootstrap})
    for index in range(count):
        producer.produce(topic, value=b"v%d" % index, partition=0)
    assert producer.flush(15) == 0


def heartbeat(port, group, member, epoch, topics=None):
    body = (cstring(group) + cstring(member) + struct.pack(">i", epoch) + cstring(None)
            + carray(topics, cstring) + b"\x00")
    answer = flexible_exchange(port, SHARE_GROUP_HEARTBEAT, 1, body)
    throttle, error = answer.int(">i"), answer.int(">h")
    message, member_id, member_epoch, interval = answer.string(), answer.string(), answer.int(">i"), answer.int(">i")
    assignment = None
    if answer.int(">b") >= 0:
        assignment = answer.array(lambda: (uuid.UUID(bytes=answer.take(16)), read_partitions(answer)))
        answer.tags()
    return {"error": error, "message": message, "member": member_id, "epoch": member_epoch,
            "interval": interval, "assignment": assignment}


def read_partitions(answer: Reader):
    partitions = answer.array(lambda: answer.int(">i"))
    answer.tags()
    return partitions


def describe(port, *groups):
    body = carray(list(groups), cstring) + b"\x00" + b"\x00"
    answer = flexible_exchange(port, SHARE_GROUP_DESCRIBE, 1, body)
    answer.int(">i")

    def member():
        entry = {"member": answer.string(), "rack": answer.string(), "epoch": answer.int(">i"),
                 "client": answer.string(), "host": answer.string(),
                 "topics": answer.array(answer.string)}

        def topic_partitions():
            topic_id, name = uuid.UUID(bytes=answer.take(16)), answer.string()
            return name, topic_id, read_partitions(answer)
        entry["assignment"] = answer.array(topic_partitions)
        answer.tags()
        answer.tags()
        return entry

    def group():
        entry = {"error": answer.int(">h"), "message": answer.string(), "group": answer.string(),
                 "state": answer.string(), "epoch": answer.int(">i"), "assignment_epoch": answer.int(">i"),
                 "assignor": answer.string()}
        entry["members"] = answer.array(member)
        entry["operations"] = answer.int(">i")
        answer.tags()
        return entry
    return answer.array(group)


def describe_offsets(port, group, topics=None, version=1):
    encoded = None if topics is None else [cstring(name) + carray(parts, lambda p: struct.pack(">i", p)) + b"\x00"
                                           for name, parts in topics]
    body = carray([cstring(group) + carray(encoded) + b"\x00"]) + b"\x00"
    answer = flexible_exchange(port, DESCRIBE_OFFSETS, version, body)
    answer.int(">i")

    def partition():
        entry = {"partition": answer.int(">i"), "start": answer.int(">q"), "epoch": answer.int(">i")}
        if version >= 1:
            entry["lag"] = answer.int(">q")
        entry["error"], entry["message"] = answer.int(">h"), answer.string()
        answer.tags()
        return entry

    def topic():
        name, _ = answer.string(), answer.take(16)
        partitions = answer.array(partition)
        answer.tags()
        return name, partitions

    def group_entry():
        entry = {"group": answer.string(), "topics": answer.array(topic), "error": answer.int(">h"),
                 "message": answer.string()}
        answer.tags()
        return entry
    return answer.array(group_entry)[0]


def alter_offsets(port, group, topic, offsets):
    partitions = [struct.pack(">iq", index, offset) + b"\x00" for index, offset in offsets]
    body = cstring(group) + carray([cstring(topic) + carray(partitions) + b"\x00"]) + b"\x00"
    answer = flexible_exchange(port, ALTER_OFFSETS, 0, body)
    answer.int(">i")
    error, message = answer.int(">h"), answer.string()

    def topic_entry():
        name, _ = answer.string(), answer.take(16)

        def partition():
            entry = (answer.int(">i"), answer.int(">h"), answer.string())
            answer.tags()
            return entry
        parts = answer.array(partition)
        answer.tags()
        return name, parts
    return error, message, answer.array(topic_entry)


def delete_offsets(port, group, topics):
    body = cstring(group) + carray([cstring(name) + b"\x00" for name in topics]) + b"\x00"
    answer = flexible_exchange(port, DELETE_OFFSETS, 0, body)
    answer.int(">i")
    error, message = answer.int(">h"), answer.string()

    def topic_entry():
        entry = (answer.string(), answer.take(16), answer.int(">h"), answer.string())
        answer.tags()
        return entry[0], entry[2]
    return error, message, answer.array(topic_entry)


def test_heartbeat_and_describe_frames_and_the_group_survives_a_kill(broker_factory):
    broker = broker_factory(group_share_session_timeout_ms=60000)
    create_topic(broker.bootstrap, "wire-share", partitions=2)
    first = heartbeat(broker.port, "wire-g", "member-a", 0, ["wire-share"])
    assert first["error"] == NONE and first["member"] == "member-a" and first["epoch"] > 0
    assert [sorted(parts) for _, parts in first["assignment"]] == [[0, 1]]
    second = heartbeat(broker.port, "wire-g", "member-b", 0, ["wire-share"])
    assert second["error"] == NONE and second["epoch"] > first["epoch"]
    # A stale epoch is fenced; an unknown member with a non-zero epoch is unknown.
    assert heartbeat(broker.port, "wire-g", "member-b", second["epoch"] + 5)["error"] == FENCED_MEMBER_EPOCH
    assert heartbeat(broker.port, "wire-g", "nobody", 3)["error"] == UNKNOWN_MEMBER_ID

    [group] = describe(broker.port, "wire-g")
    assert group["error"] == NONE and group["state"] == "Stable" and group["assignor"] == "simple"
    assert group["epoch"] == second["epoch"] == group["assignment_epoch"]
    members = {entry["member"]: entry for entry in group["members"]}
    assert set(members) == {"member-a", "member-b"}
    assert members["member-b"]["topics"] == ["wire-share"]
    assert members["member-b"]["assignment"][0][0] == "wire-share"
    assert sorted(members["member-b"]["assignment"][0][2]) == [0, 1]
    [missing] = describe(broker.port, "no-such-share-group")
    assert missing["error"] == GROUP_ID_NOT_FOUND

    broker.stop(signal.SIGKILL)
    broker.start()
    [after] = describe(broker.port, "wire-g")
    assert after["error"] == NONE and after["state"] == "Stable"
    assert after["epoch"] == group["epoch"] and after["assignment_epoch"] == group["assignment_epoch"]
    assert {entry["member"]: entry["epoch"] for entry in after["members"]} == \
        {entry["member"]: entry["epoch"] for entry in group["members"]}
    # The members carry on with the epochs they had.
    again = heartbeat(broker.port, "wire-g", "member-b", members["member-b"]["epoch"])
    assert again["error"] == NONE
    # Leaving empties the group, which stays Empty across another restart.
    for name in ("member-a", "member-b"):
        current = {entry["member"]: entry["epoch"] for entry in describe(broker.port, "wire-g")[0]["members"]}
        assert heartbeat(broker.port, "wire-g", name, -1)["epoch"] == -1, current
    broker.stop(signal.SIGKILL)
    broker.start()
    [empty] = describe(broker.port, "wire-g")
    assert empty["error"] == NONE and empty["state"] == "Empty" and empty["members"] == []


def test_share_group_offsets_frames(broker_factory):
    broker = broker_factory()
    create_topic(broker.bootstrap, "wire-offsets")
    produce(broker.bootstrap, "wire-offsets", 10)
    member = heartbeat(broker.port, "wire-o", "member-o", 0, ["wire-offsets"])
    assert member["error"] == NONE
    # An unread partition has no start offset yet; an unknown partition says so.
    described = describe_offsets(broker.port, "wire-o", [("wire-offsets", [0, 7])])
    assert described["error"] == NONE
    [(name, partitions)] = described["topics"]
    assert name == "wire-offsets"
    assert partitions[0]["start"] == -1 and partitions[0]["error"] == NONE
    assert partitions[1]["error"] == UNKNOWN_TOPIC_OR_PARTITION
    assert describe_offsets(broker.port, "no-such-group", None)["error"] == GROUP_ID_NOT_FOUND

    # Alter and delete need an empty group.
    error, _, _ = alter_offsets(broker.port, "wire-o", "wire-offsets", [(0, 4)])
    assert error == NON_EMPTY_GROUP
    assert heartbeat(broker.port, "wire-o", "member-o", -1)["error"] == NONE
    error, _, topics = alter_offsets(broker.port, "wire-o", "wire-offsets", [(0, 4), (1, 0)])
    assert error == NONE
    assert topics == [("wire-offsets", [(0, NONE, None), (1, UNKNOWN_TOPIC_OR_PARTITION, None)])]
    error, _, topics = alter_offsets(broker.port, "wire-o", "wire-offsets", [(0, 11)])
    assert topics[0][1][0][1] == OFFSET_OUT_OF_RANGE
    [(_, [partition])] = describe_offsets(broker.port, "wire-o", None)["topics"]
    assert partition["start"] == 4 and partition["lag"] == 6
    v0 = describe_offsets(broker.port, "wire-o", [("wire-offsets", [0])], version=0)
    assert v0["topics"][0][1][0]["start"] == 4 and "lag" not in v0["topics"][0][1][0]

    error, _, deleted = delete_offsets(broker.port, "wire-o", ["wire-offsets", "no-such-topic"])
    assert error == NONE and deleted == [("wire-offsets", NONE), ("no-such-topic", UNKNOWN_TOPIC_OR_PARTITION)]
    assert describe_offsets(broker.port, "wire-o", None)["topics"] == []


def topic_id(bootstrap, name):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    identity = admin.describe_topics(TopicCollection([name]))[name].result(10).topic_id
    return struct.pack(">qq", identity.get_most_significant_bits(), identity.get_least_significant_bits())


class Connection:
    """One connection for several requests: a share session ends when the connection that opened it closes."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.correlation = 0

    def exchange(self, api_key, version, body) -> Reader:
        self.correlation += 1
        header = struct.pack(">hhih", api_key, version, self.correlation, 3) + b"raw" + b"\x00"
        self.sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        answer = Reader(read_response(self.sock))
        assert answer.int(">i") == self.correlation
        answer.tags()
        return answer

    def close(self):
        self.sock.close()


def ack_batches(batches):
    """AcknowledgementBatches: (first, last, type) each."""
    return carray(batches, lambda batch: struct.pack(">qq", batch[0], batch[1])
                  + carray([batch[2]], lambda kind: struct.pack(">b", kind)) + b"\x00")


def share_fetch(connection, group, member, epoch, topic, acks=(), max_wait_ms=3000):
    """ShareFetch v1 for partition 0 of `topic` (an id); returns the top-level error and, per partition, its
    error, acknowledgement error and acquired (first, last, delivery count) runs."""
    partition = struct.pack(">i", 0) + ack_batches(list(acks)) + b"\x00"
    body = (cstring(group) + cstring(member) + struct.pack(">iiiiii", epoch, max_wait_ms, 1, 1 << 20, 500, 500)
            + carray([topic + carray([partition]) + b"\x00"]) + carray([]) + b"\x00")
    answer = connection.exchange(SHARE_FETCH, 1, body)
    answer.int(">i")
    error, _, _ = answer.int(">h"), answer.string(), answer.int(">i")

    def partition_data():
        entry = {"partition": answer.int(">i"), "error": answer.int(">h"), "message": answer.string(),
                 "ack_error": answer.int(">h"), "ack_message": answer.string()}
        answer.int(">i"), answer.int(">i"), answer.tags()
        length = answer.uvarint() - 1
        if length > 0:
            answer.take(length)
        entry["acquired"] = answer.array(lambda: (answer.int(">q"), answer.int(">q"), answer.int(">h"), answer.tags())[:3])
        answer.tags()
        return entry

    topics = answer.array(lambda: (answer.take(16), answer.array(partition_data), answer.tags())[1])
    return error, [entry for partitions in topics or [] for entry in partitions]


def share_acknowledge(connection, group, member, epoch, topic, acks):
    """ShareAcknowledge v1 for partition 0 of `topic`; returns the top-level error and the partition's error."""
    partition = struct.pack(">i", 0) + ack_batches(acks) + b"\x00"
    body = (cstring(group) + cstring(member) + struct.pack(">i", epoch)
            + carray([topic + carray([partition]) + b"\x00"]) + b"\x00")
    answer = connection.exchange(SHARE_ACKNOWLEDGE, 1, body)
    answer.int(">i")
    error, _ = answer.int(">h"), answer.string()

    def partition_error():
        index, code, _ = answer.int(">i"), answer.int(">h"), answer.string()
        answer.int(">i"), answer.int(">i"), answer.tags()
        answer.tags()
        return index, code

    topics = answer.array(lambda: (answer.take(16), answer.array(partition_error), answer.tags())[1])
    return error, [entry for partitions in topics or [] for entry in partitions]


def test_share_fetch_and_acknowledge_from_a_member_the_group_does_not_know(broker_factory):
    # Kafka's share-partition leader does not consult the group coordinator: a ShareFetch opens a share session
    # for whatever member id it carries (SharePartitionManager.newContext), and ShareAcknowledge checks only that
    # session. No UNKNOWN_MEMBER_ID: the member id just names the holder of the acquired records.
    broker = broker_factory(**{"group.share.auto.offset.reset": "earliest", "group.share.session.timeout.ms": 60000})
    create_topic(broker.bootstrap, "wire-outsider")
    produce(broker.bootstrap, "wire-outsider", 4)
    topic = topic_id(broker.bootstrap, "wire-outsider")
    assert heartbeat(broker.port, "wire-x", "insider", 0, ["wire-outsider"])["error"] == NONE

    connection = Connection(broker.port)
    try:
        error, [partition] = share_fetch(connection, "wire-x", "outsider", 0, topic)
        assert error == NONE and partition["error"] == NONE
        assert partition["acquired"] == [(0, 3, 1)]
        # The outsider holds records without being a member of the group.
        [group] = describe(broker.port, "wire-x")
        assert [entry["member"] for entry in group["members"]] == ["insider"]
        error, [(index, code)] = share_acknowledge(connection, "wire-x", "outsider", 1, topic, [(0, 1, ACCEPT)])
        assert (error, index, code) == (NONE, 0, NONE)
        # What it accepted it no longer holds; its session goes on with the next epoch.
        error, [(_, code)] = share_acknowledge(connection, "wire-x", "outsider", 2, topic, [(0, 1, ACCEPT)])
        assert (error, code) == (NONE, INVALID_RECORD_STATE)
        error, _ = share_fetch(connection, "wire-x", "outsider", 7, topic)
        assert error == INVALID_SHARE_SESSION_EPOCH
        error, [partition] = share_fetch(connection, "wire-x", "outsider", 3, topic, acks=[(2, 3, ACCEPT)],
                                         max_wait_ms=200)
        assert error == NONE and partition["ack_error"] == NONE and not partition["acquired"]
    finally:
        connection.close()


def test_deleting_a_share_group_removes_its_group_configs(broker_factory):
    broker = broker_factory(**{"group.share.record.lock.duration.ms": 30000,
                               "group.share.min.record.lock.duration.ms": 1000})
    create_topic(broker.bootstrap, "wire-configured")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    group = ConfigResource(ResourceType.GROUP, "wire-cfg", incremental_configs=[
        ConfigEntry("share.auto.offset.reset", "earliest", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("share.record.lock.duration.ms", "2000", incremental_operation=AlterConfigOpType.SET)])
    admin.incremental_alter_configs([group])[group].result(10)
    # A share group that existed and is empty now.
    assert heartbeat(broker.port, "wire-cfg", "member-c", 0, ["wire-configured"])["error"] == NONE
    assert heartbeat(broker.port, "wire-cfg", "member-c", -1)["error"] == NONE

    def described():
        resource = ConfigResource(ResourceType.GROUP, "wire-cfg")
        return admin.describe_configs([resource])[resource].result(10)

    before = described()
    assert before["share.auto.offset.reset"].value == "earliest"
    assert before["share.auto.offset.reset"].source == ConfigSource.GROUP_CONFIG.value
    admin.delete_consumer_groups(["wire-cfg"])["wire-cfg"].result(10)
    after = described()
    assert after["share.auto.offset.reset"].value == "latest"
    assert after["share.auto.offset.reset"].source == ConfigSource.DEFAULT_CONFIG.value
    assert after["share.record.lock.duration.ms"].value == "30000"
    # Gone for good: a restart does not bring them back.
    broker.stop(signal.SIGKILL)
    broker.start()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    assert described()["share.record.lock.duration.ms"].source == ConfigSource.DEFAULT_CONFIG.value
