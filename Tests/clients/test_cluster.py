"""A cluster of 3 portaskd brokers on 3 etcd members, seen by unmodified clients as one Kafka cluster.

librdkafka (confluent-kafka), kafka-python, Sarama and kafka-go produce to and consume from topics whose
partitions are spread over the brokers, and keep working across a broker restart (the restarted broker answers
NOT_LEADER_OR_FOLLOWER until it leads again; the clients refresh their metadata and retry). Consumer groups
whose coordinators are on different brokers commit and resume. A broker killed with SIGKILL takes exactly its
own partitions offline (leader -1, LEADER_NOT_AVAILABLE) until it is back, with every acknowledged record. etcd
loses nothing for the brokers with one member down; with two down (no quorum) metadata changes fail while
produce and fetch on the existing leaders go on.
"""
import signal
import socket
import statistics
import struct
import subprocess
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KpTopicPartition

from cluster_support import NODE_IDS, SESSION_TIMEOUT_MS, cluster, cluster_processes  # noqa: F401 (fixtures)
from kafka_wire import (Reader, carray, cstring, fetch_v4, flexible_exchange, frame, produce_v3, produce_v3_error,
                        read_response, record, record_batch, uvarint)
from test_go_clients import build_go_programs, check_go_exit, parse_go_output

PARTITIONS = 6
TIMEOUT = 20
NOT_LEADER_OR_FOLLOWER = 6
LEADER_NOT_AVAILABLE = 5


@pytest.fixture(scope="module")
def go_programs(tmp_path_factory):
    return build_go_programs(tmp_path_factory.mktemp("go-cluster-bin"),
                             ("portask-cluster-sarama", "portask-cluster-kafkago",
                              "portask-sarama-group", "portask-kafkago-group"))


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def admin_for(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def topic_metadata(bootstrap: str, topic: str):
    return admin_for(bootstrap).list_topics(topic, timeout=TIMEOUT)


def leaders(bootstrap: str, topic: str) -> dict:
    """{partition: leader node id} from a fresh Metadata request."""
    return {p.id: p.leader for p in topic_metadata(bootstrap, topic).topics[topic].partitions.values()}


def create_topic(cluster, topic: str, partitions: int = PARTITIONS) -> dict:
    """Creates the topic and waits until every partition has a leader; returns {partition: leader}."""
    admin = admin_for(cluster.bootstrap)  # kept referenced until the future completes
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)],
                        request_timeout=TIMEOUT)[topic].result(TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = leaders(cluster.bootstrap, topic)
        if len(found) == partitions and all(leader in NODE_IDS for leader in found.values()):
            return found
        assert time.monotonic() < deadline, f"{topic} has no leader for every partition: {found}"
        time.sleep(0.2)


def wait_for_leaders(bootstrap: str, topic: str, expected: dict, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        found = leaders(bootstrap, topic)
        if found == expected:
            return
        assert time.monotonic() < deadline, f"leaders of {topic} are {found}, not {expected}"
        time.sleep(0.2)


def confluent_producer(bootstrap: str, **config) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5, "message.timeout.ms": 30000,
                     "retry.backoff.ms": 100, "retry.backoff.max.ms": 500, **config})


def produce(producer: Producer, topic: str, values_by_partition: dict, timeout: float = 40) -> dict:
    """Produces each value to its partition; returns {value: (partition, offset)} of the acknowledged ones and
    fails on any delivery error."""
    acknowledged, errors = {}, []

    def delivered(error, message):
        if error is not None:
            errors.append((message.partition(), error))
        else:
            acknowledged[message.value().decode()] = (message.partition(), message.offset())
    for partition, values in values_by_partition.items():
        for value in values:
            producer.produce(topic, value=value.encode(), partition=partition, on_delivery=delivered)
    assert producer.flush(timeout) == 0, "messages still undelivered"
    assert not errors, f"delivery failed: {errors}"
    return acknowledged


def spread(prefix: str, count_per_partition: int, partitions: int = PARTITIONS) -> dict:
    return {p: [f"{prefix}-p{p}-{i}" for i in range(count_per_partition)] for p in range(partitions)}


def confluent_read_all(bootstrap: str, topic: str, expected_count: int, partitions: int = PARTITIONS,
                       consumer: Consumer = None, timeout: float = 30) -> dict:
    """Reads until `expected_count` records arrived; returns {value: (partition, offset)}."""
    own = consumer is None
    if own:
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                             "enable.auto.commit": False, "fetch.wait.max.ms": 100})
        consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen = {}
    deadline = time.monotonic() + timeout
    try:
        while len(seen) < expected_count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(message.error())
            seen[message.value().decode()] = (message.partition(), message.offset())
    finally:
        if own:
            consumer.close()
    return seen


# ---- metadata and routing ----

def test_metadata_lists_every_broker_and_spreads_partitions_over_them(cluster):
    topic = unique("spread")
    created = create_topic(cluster, topic)
    metadata = topic_metadata(cluster.bootstrap, topic)
    assert {b.id: (b.host, b.port) for b in metadata.brokers.values()} == {
        node_id: ("127.0.0.1", cluster.broker(node_id).port) for node_id in NODE_IDS}
    assert sorted(metadata.topics[topic].partitions) == list(range(PARTITIONS))
    for partition in metadata.topics[topic].partitions.values():
        assert partition.error is None
        assert partition.replicas == [partition.leader]
        assert partition.isrs == [partition.leader]
    assert len(set(created.values())) >= 2, f"all partitions on one broker: {created}"

    # Every broker answers with the same brokers and leaders.
    for node_id in NODE_IDS:
        assert leaders(cluster.broker(node_id).bootstrap, topic) == created

    admin = admin_for(cluster.bootstrap)
    description = admin.describe_cluster(request_timeout=TIMEOUT).result(TIMEOUT)
    assert sorted(node.id for node in description.nodes) == list(NODE_IDS)
    assert description.controller is not None and description.controller.id in NODE_IDS
    assert description.cluster_id == cluster.cluster_id


def produce_v10(topic: str, partition: int, records: bytes) -> bytes:
    partition_data = struct.pack(">i", partition) + uvarint(len(records) + 1) + records + b"\x00"
    topic_data = cstring(topic) + carray([partition_data]) + b"\x00"
    return b"\x00" + struct.pack(">hi", -1, 10000) + carray([topic_data]) + b"\x00"


def read_tagged(reader: Reader) -> dict:
    """Tagged fields as {tag: Reader over its bytes}."""
    fields = {}
    for _ in range(reader.uvarint()):
        tag = reader.uvarint()
        fields[tag] = Reader(reader.take(reader.uvarint()))
    return fields


def parse_produce_v10(answer: Reader) -> tuple:
    """A Produce v10 response: ([(topic, partition, error, current leader (id, epoch) or None)],
    {node id: (host, port)} of the NodeEndpoints)."""
    results = []
    for _ in range(answer.uvarint() - 1):
        name = answer.string()
        for _ in range(answer.uvarint() - 1):
            index, error = answer.int(">i"), answer.int(">h")
            answer.take(24)  # base offset, log append time, log start offset
            answer.array(lambda: (answer.int(">i"), answer.string(), answer.tags()))
            answer.string()
            tagged = read_tagged(answer)
            current = (tagged[0].int(">i"), tagged[0].int(">i")) if 0 in tagged else None
            results.append((name, index, error, current))
        answer.tags()
    answer.int(">i")  # throttle time
    endpoints = {}
    tagged = read_tagged(answer)
    if 0 in tagged:
        nodes = tagged[0]
        for _ in range(nodes.uvarint() - 1):
            node_id, host, port = nodes.int(">i"), nodes.string(), nodes.int(">i")
            nodes.string()
            nodes.tags()
            endpoints[node_id] = (host, port)
    return results, endpoints


def fetch_v4_error(port: int, topic: str, partition: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(1, 4, 3, fetch_v4(topic, partition, 0, 0, 0)))
        response = read_response(sock)
    # correlation id, throttle time, topic count, topic name, partition count, then partition and error code
    topic_length = struct.unpack_from(">h", response, 12)[0]
    at = 14 + topic_length + 4
    found_partition, error = struct.unpack_from(">ih", response, at)
    assert found_partition == partition
    return error


def test_produce_and_fetch_on_a_broker_that_does_not_lead_answer_not_leader_with_the_leader(cluster):
    """KIP-951: Produce v10 on a non-leader answers NOT_LEADER_OR_FOLLOWER naming the current leader, with its
    endpoint; Fetch there answers NOT_LEADER_OR_FOLLOWER too, while the leader serves both."""
    topic = unique("routing")
    created = create_topic(cluster, topic)
    partition, leader = next(iter(created.items()))
    other = next(node_id for node_id in NODE_IDS if node_id != leader)
    batch = record_batch([record(0, b"misrouted")])
    answer = flexible_exchange(cluster.broker(other).port, 0, 10, produce_v10(topic, partition, batch))
    results, endpoints = parse_produce_v10(answer)
    [(name, index, error, current_leader)] = results
    assert (name, index, error) == (topic, partition, NOT_LEADER_OR_FOLLOWER)
    assert current_leader is not None and current_leader[0] == leader and current_leader[1] >= 0
    assert endpoints.get(leader) == ("127.0.0.1", cluster.broker(leader).port)
    assert fetch_v4_error(cluster.broker(other).port, topic, partition) == NOT_LEADER_OR_FOLLOWER

    answer = flexible_exchange(cluster.broker(leader).port, 0, 10, produce_v10(topic, partition, batch))
    [(_, _, error, _)], _ = parse_produce_v10(answer)
    assert error == 0
    assert fetch_v4_error(cluster.broker(leader).port, topic, partition) == 0


# ---- clients across a broker restart ----

def test_confluent_kafka_produces_and_consumes_across_a_broker_restart(cluster):
    topic = unique("rdkafka-restart")
    created = create_topic(cluster, topic)
    producer = confluent_producer(cluster.bootstrap)
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": unique("reader"),
                         "enable.auto.commit": False, "fetch.wait.max.ms": 100,
                         "reconnect.backoff.max.ms": 500, "retry.backoff.max.ms": 500})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    try:
        before = produce(producer, topic, spread("before", 5))
        assert confluent_read_all(cluster.bootstrap, topic, len(before), consumer=consumer) == before

        cluster.restart_broker(created[0])
        # The same producer and consumer, with metadata from before the restart, follow the restarted leader.
        after = produce(producer, topic, spread("after", 5))
        assert confluent_read_all(cluster.bootstrap, topic, len(after), consumer=consumer) == after
    finally:
        consumer.close()
    wait_for_leaders(cluster.bootstrap, topic, created)
    assert confluent_read_all(cluster.bootstrap, topic, len(before) + len(after)) == {**before, **after}


def kafka_python_read(consumer: KafkaConsumer, count: int, timeout: float = 30) -> dict:
    seen = {}
    deadline = time.monotonic() + timeout
    while len(seen) < count and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            for message in records:
                seen[message.value.decode()] = (message.partition, message.offset)
    return seen


def kafka_python_send(producer: KafkaProducer, topic: str, values_by_partition: dict) -> dict:
    futures = [(value, producer.send(topic, value=value.encode(), partition=partition))
               for partition, values in values_by_partition.items() for value in values]
    producer.flush(40)
    acknowledged = {}
    for value, future in futures:
        metadata = future.get(timeout=1)
        acknowledged[value] = (metadata.partition, metadata.offset)
    return acknowledged


def test_kafka_python_produces_and_consumes_across_a_broker_restart(cluster):
    topic = unique("kafka-python-restart")
    created = create_topic(cluster, topic)
    servers = cluster.bootstrap.split(",")
    producer = KafkaProducer(bootstrap_servers=servers, acks="all", enable_idempotence=True, linger_ms=5,
                             retries=100, retry_backoff_ms=100, request_timeout_ms=10000, max_block_ms=30000,
                             reconnect_backoff_max_ms=500)
    consumer = KafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False, fetch_max_wait_ms=100,
                             reconnect_backoff_max_ms=500, request_timeout_ms=10000)
    partitions = [KpTopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    try:
        before = kafka_python_send(producer, topic, spread("before", 5))
        assert kafka_python_read(consumer, len(before)) == before

        cluster.restart_broker(created[1])
        after = kafka_python_send(producer, topic, spread("after", 5))
        assert kafka_python_read(consumer, len(after)) == after
    finally:
        producer.close(timeout=5)
        consumer.close()
    wait_for_leaders(cluster.bootstrap, topic, created)
    assert confluent_read_all(cluster.bootstrap, topic, len(before) + len(after)) == {**before, **after}


@pytest.mark.parametrize("program", ["portask-cluster-sarama", "portask-cluster-kafkago"])
def test_go_client_produces_and_consumes_across_a_broker_restart(cluster, go_programs, program):
    """The program produces half its messages, pauses while a broker restarts, produces the other half with the
    same client and reads every partition back."""
    topic = unique(program.replace("portask-", ""))
    created = create_topic(cluster, topic)
    count = 30
    process = subprocess.Popen([str(go_programs[program]), "-brokers", cluster.bootstrap, "-topic", topic,
                                "-partitions", str(PARTITIONS), "-count", str(count), "-pause"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        paused = process.stdout.readline()
        if paused.strip() != '{"event":"paused"}':
            process.kill()
            _, stderr = process.communicate()
            pytest.fail(f"{program} did not reach its pause: {paused!r}\n{stderr}")
        cluster.restart_broker(created[2])
        stdout, stderr = process.communicate("\n")
    finally:
        watchdog.cancel()
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    check_go_exit(result)
    messages = parse_go_output(result)
    values = [m["value"] for m in messages]
    # Retries without idempotence may write a message twice, as with Kafka; none may be missing.
    assert set(values) == {f"{topic}-{i}" for i in range(2 * count)}
    if program == "portask-cluster-sarama":
        assert all(int(m["value"].rsplit("-", 1)[1]) % PARTITIONS == m["partition"] for m in messages)
    for partition in range(PARTITIONS):
        offsets = [m["offset"] for m in messages if m["partition"] == partition]
        assert offsets == list(range(len(offsets)))
    wait_for_leaders(cluster.bootstrap, topic, created)


# ---- consumer groups ----

def find_coordinator(port: int, group: str, timeout: float = TIMEOUT) -> int:
    """The coordinator's node id from FindCoordinator v0, retrying while it is not available yet."""
    key = group.encode()
    deadline = time.monotonic() + timeout
    while True:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(frame(10, 0, 5, struct.pack(">h", len(key)) + key))
            response = read_response(sock)
        error, node_id = struct.unpack_from(">hi", response, 4)
        if error == 0:
            return node_id
        assert time.monotonic() < deadline, f"FindCoordinator({group}) answers error {error}"
        time.sleep(0.2)


def group_coordinated_by(cluster, prefix: str, node_id: int) -> str:
    for attempt in range(200):
        group = f"{prefix}-{attempt}"
        if find_coordinator(cluster.broker(NODE_IDS[0]).port, group) == node_id:
            return group
    pytest.fail(f"no group {prefix}-N is coordinated by broker {node_id}")


def confluent_group_read(cluster, topic: str, group: str, count: int) -> list:
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                         "reconnect.backoff.max.ms": 500, "retry.backoff.max.ms": 500})
    consumer.subscribe([topic])
    seen = []
    deadline = time.monotonic() + 40
    try:
        while len(seen) < count and time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                seen.append({"partition": message.partition(), "offset": message.offset(),
                             "value": message.value().decode()})
        consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return seen


def kafka_python_group_read(cluster, topic: str, group: str, count: int) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=cluster.bootstrap.split(","), group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
                             heartbeat_interval_ms=500, fetch_max_wait_ms=100, reconnect_backoff_max_ms=500)
    seen = []
    deadline = time.monotonic() + 40
    try:
        while len(seen) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200, max_records=count - len(seen)).values():
                seen.extend({"partition": m.partition, "offset": m.offset, "value": m.value.decode()}
                            for m in records)
        consumer.commit()
    finally:
        consumer.close()
    return seen


def go_group_read(program):
    def read(cluster, topic, group, count, binaries):
        result = subprocess.run([str(binaries[program]), "-brokers", cluster.bootstrap, "-topic", topic,
                                 "-group", group, "-count", str(count)], capture_output=True, text=True, timeout=90)
        check_go_exit(result)
        return parse_go_output(result)
    return read


GROUP_READERS = {
    "confluent": lambda cluster, topic, group, count, _: confluent_group_read(cluster, topic, group, count),
    "kafka-python": lambda cluster, topic, group, count, _: kafka_python_group_read(cluster, topic, group, count),
    "sarama": go_group_read("portask-sarama-group"),
    "kafka-go": go_group_read("portask-kafkago-group"),
}


def committed_offsets(cluster, topic: str, group: str) -> dict:
    consumer = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=TIMEOUT)
    finally:
        consumer.close()
    # A commit of offset 0 (a partition assigned but not read from) is the same as none.
    return {tp.partition: tp.offset for tp in offsets if tp.offset > 0}


def next_offsets(messages: list) -> dict:
    result = {}
    for message in messages:
        result[message["partition"]] = max(result.get(message["partition"], 0), message["offset"] + 1)
    return result


def test_consumer_groups_with_coordinators_on_different_brokers_commit_and_resume(cluster, go_programs):
    topic = unique("groups")
    create_topic(cluster, topic)
    values = spread("g", 10)
    produce(confluent_producer(cluster.bootstrap), topic, values)
    everything = {value for partition_values in values.values() for value in partition_values}
    # One group per client, their coordinators (leaders of their __consumer_offsets partitions) on every broker.
    groups = {client: group_coordinated_by(cluster, f"{topic}-{client}", NODE_IDS[i % len(NODE_IDS)])
              for i, client in enumerate(GROUP_READERS)}
    assert {find_coordinator(cluster.broker(NODE_IDS[-1]).port, g) for g in groups.values()} == set(NODE_IDS)

    first = {}
    for client, read in GROUP_READERS.items():
        first[client] = read(cluster, topic, groups[client], 25, go_programs)
        assert len(first[client]) >= 25, f"{client} read {len(first[client])}"
        committed = committed_offsets(cluster, topic, groups[client])
        assert committed == next_offsets(first[client]), (client, committed, next_offsets(first[client]))

    # More records arrive; the coordinator of the first group restarts and loads its groups' offsets again.
    more = spread("h", 6)
    produce(confluent_producer(cluster.bootstrap), topic, more)
    everything |= {value for partition_values in more.values() for value in partition_values}
    cluster.restart_broker(NODE_IDS[0])
    for client, read in GROUP_READERS.items():
        remaining = len(everything) - len({m["value"] for m in first[client]})
        second = read(cluster, topic, groups[client], remaining, go_programs)
        first_values = {m["value"] for m in first[client]}
        second_values = {m["value"] for m in second}
        assert not first_values & second_values, f"{client} read again what its group committed"
        assert first_values | second_values == everything, client
        assert committed_offsets(cluster, topic, groups[client]) == {p: 16 for p in range(PARTITIONS)}, client


# ---- broker failure ----

def test_kill_9_takes_the_brokers_partitions_offline_and_its_restart_brings_back_every_acknowledged_record(cluster):
    topic = unique("kill9")
    created = create_topic(cluster, topic)
    acknowledged = produce(confluent_producer(cluster.bootstrap), topic, spread("acked", 10))
    victim = created[0]
    offline = {p for p, leader in created.items() if leader == victim}
    online = set(created) - offline
    survivors = ",".join(cluster.broker(n).bootstrap for n in NODE_IDS if n != victim)

    killed = time.monotonic()
    cluster.kill_broker(victim, signal.SIGKILL)
    deadline = killed + SESSION_TIMEOUT_MS / 1000 + 15
    while True:
        metadata = topic_metadata(survivors, topic)
        partitions = metadata.topics[topic].partitions
        if victim not in metadata.brokers and all(partitions[p].leader == -1 for p in offline):
            break
        assert time.monotonic() < deadline, f"broker {victim}'s partitions still led: {leaders(survivors, topic)}"
        time.sleep(0.2)
    print(f"partitions of broker {victim} offline in Metadata {time.monotonic() - killed:.1f} s after kill -9 "
          f"(broker.session.timeout.ms={SESSION_TIMEOUT_MS})")
    for p in offline:
        assert partitions[p].error is not None and partitions[p].error.code() == KafkaError.LEADER_NOT_AVAILABLE
    for p in online:  # nothing else moves
        assert partitions[p].leader == created[p] and partitions[p].error is None

    acknowledged.update(produce(confluent_producer(survivors), topic, {p: [f"during-{p}"] for p in online}))
    outcome = {}
    failing = confluent_producer(survivors, **{"message.timeout.ms": 2000})
    failing.produce(topic, value=b"unavailable", partition=min(offline),
                    on_delivery=lambda error, message: outcome.setdefault("error", error))
    failing.flush(10)
    assert outcome.get("error") is not None, "a produce to an offline partition succeeded"

    cluster.start_broker(victim)
    wait_for_leaders(cluster.bootstrap, topic, created, timeout=30)
    assert confluent_read_all(cluster.bootstrap, topic, len(acknowledged)) == acknowledged


def raw_produce_until_accepted(port: int, topic: str, partition: int, timeout: float) -> float:
    """Sends a Produce v3 (acks=all) of one record every 20 ms to `port` until it is accepted; returns when."""
    deadline = time.monotonic() + timeout
    batch = record_batch([record(0, b"raw-probe")])
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(frame(0, 3, 9, produce_v3(topic, partition, batch)))
                if produce_v3_error(read_response(sock)) == 0:
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.02)
    pytest.fail(f"partition {partition} did not accept a produce on port {port} within {timeout} s")


def test_partition_unavailability_after_kill_9_and_immediate_restart(cluster):
    """Measures the time from kill -9 of a partition's leader, restarted right away, until a produce to the
    partition succeeds (the old session must expire before the broker registers again): once for the broker
    (a raw Produce every 20 ms) and once as librdkafka sees it (a producer that had the partition's metadata)."""
    topic = unique("unavailable")
    created = create_topic(cluster, topic)
    producer = confluent_producer(cluster.bootstrap, **{"message.timeout.ms": 60000,
                                                        "reconnect.backoff.max.ms": 200,
                                                        "retry.backoff.max.ms": 200})
    produce(producer, topic, {p: ["warm-up"] for p in range(PARTITIONS)})
    broker_samples, client_samples = [], []
    for victim in sorted(set(created.values())):
        partition = min(p for p, leader in created.items() if leader == victim)
        cluster.wait_until_ready()
        killed = time.monotonic()
        cluster.kill_broker(victim, signal.SIGKILL)
        cluster.start_broker(victim)
        listening = time.monotonic() - killed
        outcome = {}
        producer.produce(topic, value=b"probe", partition=partition,
                         on_delivery=lambda error, message: outcome.update(error=error, at=time.monotonic()))
        accepted = raw_produce_until_accepted(cluster.broker(victim).port, topic, partition, 60)
        producer.flush(60)
        assert outcome.get("error") is None, f"probe to partition {partition} failed: {outcome}"
        broker_samples.append(accepted - killed)
        client_samples.append(outcome["at"] - killed)
        print(f"broker {victim}: listening again after {listening:.2f} s; partition {partition} accepted a raw "
              f"produce {broker_samples[-1]:.2f} s and librdkafka's {client_samples[-1]:.2f} s after kill -9")
    assert max(broker_samples) < SESSION_TIMEOUT_MS / 1000 + 20
    print(f"partition unavailable after kill -9 and immediate restart (broker.session.timeout.ms="
          f"{SESSION_TIMEOUT_MS}): raw produce median {statistics.median(broker_samples):.2f} s "
          f"(max {max(broker_samples):.2f} s), librdkafka median {statistics.median(client_samples):.2f} s "
          f"(max {max(client_samples):.2f} s)")


# ---- etcd failures ----

def test_one_etcd_member_down_changes_nothing(cluster):
    cluster.kill_etcd(0)
    time.sleep(SESSION_TIMEOUT_MS / 1000 + 1)  # longer than a broker session
    for node_id in NODE_IDS:
        assert cluster.registered(node_id) == set(NODE_IDS)
    topic = unique("etcd-one-down")
    created = create_topic(cluster, topic)
    assert len(set(created.values())) >= 2
    acknowledged = produce(confluent_producer(cluster.bootstrap), topic, spread("one-down", 3))
    assert confluent_read_all(cluster.bootstrap, topic, len(acknowledged)) == acknowledged


def test_without_etcd_quorum_metadata_changes_fail_while_produce_and_fetch_go_on(cluster):
    topic = unique("no-quorum")
    created = create_topic(cluster, topic)
    producer = confluent_producer(cluster.bootstrap)
    before = produce(producer, topic, spread("before", 2))

    cluster.kill_etcd(0)
    cluster.kill_etcd(1)
    lost = time.monotonic()
    new_topic = unique("no-quorum-new")
    admin = admin_for(cluster.bootstrap)
    future = admin.create_topics([NewTopic(new_topic, num_partitions=PARTITIONS, replication_factor=1)],
                                 operation_timeout=5, request_timeout=40)[new_topic]
    with pytest.raises(KafkaException) as raised:
        future.result(60)
    error = raised.value.args[0]
    print(f"CreateTopics without etcd quorum: {error.name()} after {time.monotonic() - lost:.1f} s: {error.str()}")
    assert error.code() in (KafkaError.REQUEST_TIMED_OUT, KafkaError.NOT_CONTROLLER), error

    # Longer than a broker session without etcd: the leaders go on leading.
    time.sleep(max(0.0, SESSION_TIMEOUT_MS / 1000 + 1 - (time.monotonic() - lost)))
    during = produce(producer, topic, spread("during", 2))
    assert confluent_read_all(cluster.bootstrap, topic, len(before) + len(during)) == {**before, **during}
    assert leaders(cluster.bootstrap, topic) == created
    assert new_topic not in admin.list_topics(timeout=TIMEOUT).topics

    cluster.start_etcd(0)
    cluster.start_etcd(1)
    cluster.wait_until_ready()
    deadline = time.monotonic() + TIMEOUT
    while True:  # the brokers' etcd clients may still be reconnecting
        try:
            create_topic(cluster, new_topic)
            break
        except KafkaException as retry:
            # A change whose request timed out may still have been applied once etcd had its quorum again (its
            # outcome was unknown, as with Kafka's controller): then the topic exists.
            if retry.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                break
            assert retry.args[0].retriable() and time.monotonic() < deadline, retry
            time.sleep(0.5)
