"""Consumer groups with confluent-kafka (librdkafka): partition sharing, take-over after a leave and after a
killed member's session expires, resuming at committed offsets across a broker restart, cooperative-sticky."""
import os
import signal
import subprocess
import sys
import textwrap
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

import pytest

GROUP_BROKER = {"num.partitions": 6, "group.initial.rebalance.delay.ms": 0,
                "group.consumer.session.timeout.ms": 6000, "group.consumer.heartbeat.interval.ms": 500}
PROTOCOLS = pytest.mark.parametrize("protocol", ["classic", "consumer"])


def produce(bootstrap, topic, count, partitions=6):
    producer = Producer({"bootstrap.servers": bootstrap})
    for index in range(count):
        producer.produce(topic, value=b"m%d" % index, partition=index % partitions)
    assert producer.flush(15) == 0


def consumer(bootstrap, group, protocol="classic", **extra):
    config = {"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
              "enable.auto.commit": False}
    if protocol == "classic":
        config.update({"session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    else:
        # Session timeout and heartbeat interval of the consumer protocol are the broker's.
        config["group.protocol"] = "consumer"
    config.update(extra)
    return Consumer(config)


def partitions_of(client):
    return {(tp.topic, tp.partition) for tp in client.assignment()}


def poll_until(consumers, condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for client in consumers:
            client.poll(0.05)
        if condition():
            return True
    return False


def exactly_once(consumers, topic, count=6):
    assignments = [partitions_of(client) for client in consumers]
    union = set().union(*assignments)
    return (all(assignments) and sum(len(a) for a in assignments) == count
            and union == {(topic, p) for p in range(count)})


@PROTOCOLS
def test_three_consumers_share_six_partitions_and_two_take_over(broker_factory, protocol):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "shared", 12)
    members = [consumer(broker.bootstrap, "share-group", protocol) for _ in range(3)]
    for client in members:
        client.subscribe(["shared"])
    try:
        assert poll_until(members, lambda: exactly_once(members, "shared")), \
            [partitions_of(c) for c in members]
        leaving = members.pop()
        leaving.close()
        assert poll_until(members, lambda: exactly_once(members, "shared")), \
            [partitions_of(c) for c in members]
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        [future] = admin.describe_consumer_groups(["share-group"]).values()
        description = future.result(10)
        assert str(description.state).endswith("STABLE")
        assert len(description.members) == 2
        assert all(m.host.startswith("/127.0.0.1") or m.host == "127.0.0.1" for m in description.members), \
            [m.host for m in description.members]
    finally:
        for client in members:
            client.close()


KILLED_MEMBER = textwrap.dedent("""
    import sys, time
    from confluent_kafka import Consumer
    config = {"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "auto.offset.reset": "earliest"}
    if sys.argv[4] == "classic":
        config.update({"session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    else:
        config["group.protocol"] = "consumer"
    consumer = Consumer(config)
    consumer.subscribe([sys.argv[3]])
    while True:
        consumer.poll(0.1)
        if consumer.assignment():
            print("assigned", len(consumer.assignment()), flush=True)
""")


@PROTOCOLS
def test_killed_member_partitions_move_after_session_timeout(broker_factory, protocol):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "killed", 6)
    survivor = consumer(broker.bootstrap, "kill-group", protocol)
    survivor.subscribe(["killed"])
    child = subprocess.Popen([sys.executable, "-c", KILLED_MEMBER, broker.bootstrap, "kill-group", "killed", protocol],
                             stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 30
        child_partitions = 0
        while time.time() < deadline and not (child_partitions and len(partitions_of(survivor)) == 6 - child_partitions):
            survivor.poll(0.1)
            if not child_partitions:
                os.set_blocking(child.stdout.fileno(), False)
                line = child.stdout.readline()
                if line.startswith("assigned"):
                    child_partitions = int(line.split()[1])
        assert child_partitions > 0 and len(partitions_of(survivor)) == 6 - child_partitions
        child.send_signal(signal.SIGKILL)
        child.wait(5)
        killed_at = time.time()
        assert poll_until([survivor], lambda: len(partitions_of(survivor)) == 6, timeout=25)
        # The take-over waits for the killed member's session (6 s) to expire.
        assert time.time() - killed_at >= 4
    finally:
        if child.poll() is None:
            child.kill()
        survivor.close()


def consume_committing(clients, count, timeout=40):
    """Polls the clients in turn and commits every message synchronously before the next poll. A commit
    refused while the group rebalances is skipped: the message then counts as not committed."""
    values = []
    deadline = time.time() + timeout
    while len(values) < count and time.time() < deadline:
        for client in clients:
            message = client.poll(0.05)
            if message is not None and not message.error():
                values.append((message.partition(), message.offset()))
                try:
                    client.commit(message=message, asynchronous=False)
                except KafkaException:
                    pass
                if len(values) == count:
                    break
    return values


@PROTOCOLS
def test_restarted_consumers_resume_at_committed_offsets_across_broker_restart(broker_factory, protocol):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "resume", 60)
    first = [consumer(broker.bootstrap, "resume-group", protocol) for _ in range(3)]
    for client in first:
        client.subscribe(["resume"])
    seen = consume_committing(first, 30)
    assert len(seen) == 30
    committed = {tp.partition: max(tp.offset, 0)
                 for tp in first[0].committed([TopicPartition("resume", p) for p in range(6)], 10)}
    for client in first:
        client.close()
    # Everything below a partition's committed offset was consumed in the first run.
    assert {(p, o) for p in range(6) for o in range(committed[p])} <= set(seen)
    assert sum(committed.values()) >= 20

    broker.restart()
    second = [consumer(broker.bootstrap, "resume-group", protocol) for _ in range(3)]
    for client in second:
        client.subscribe(["resume"])
    try:
        remaining = {(p, o) for p in range(6) for o in range(committed[p], 10)}
        rest = []
        deadline = time.time() + 40
        while not remaining <= set(rest) and time.time() < deadline:
            rest += consume_committing(second, 1, timeout=1)
        # The restarted group resumes exactly at the commits: no gap, nothing committed is read again
        # (a message may repeat only inside this run, when a rebalance moved it before its commit).
        assert set(rest) == remaining
        for partition in range(6):
            offsets = [o for (p, o) in rest if p == partition]
            assert not offsets or offsets[0] == committed[partition]
    finally:
        for client in second:
            client.close()


def test_cooperative_sticky_assignment_moves_only_what_it_must(broker_factory):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "sticky", 6)
    settings = {"partition.assignment.strategy": "cooperative-sticky"}
    first = consumer(broker.bootstrap, "sticky-group", **settings)
    first.subscribe(["sticky"])
    members = [first]
    try:
        assert poll_until(members, lambda: len(partitions_of(first)) == 6)
        before = partitions_of(first)
        second = consumer(broker.bootstrap, "sticky-group", **settings)
        second.subscribe(["sticky"])
        members.append(second)
        assert poll_until(members, lambda: exactly_once(members, "sticky") and len(partitions_of(second)) == 3), \
            [partitions_of(c) for c in members]
        assert partitions_of(first) <= before
    finally:
        for client in members:
            client.close()


@PROTOCOLS
def test_running_consumers_survive_a_broker_restart(broker_factory, protocol):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "survive", 6)
    members = [consumer(broker.bootstrap, "survive-group", protocol) for _ in range(2)]
    for client in members:
        client.subscribe(["survive"])
    try:
        assert poll_until(members, lambda: exactly_once(members, "survive"))
        broker.restart()
        produce(broker.bootstrap, "survive", 12)
        received = set()
        expected = {(p, o) for p in range(6) for o in range(1, 3)}
        deadline = time.time() + 30
        while time.time() < deadline and not expected <= received:
            for client in members:
                message = client.poll(0.05)
                if message is not None and not message.error():
                    received.add((message.partition(), message.offset()))
        assert expected <= received
        assert poll_until(members, lambda: exactly_once(members, "survive"))
    finally:
        for client in members:
            client.close()


@PROTOCOLS
def test_static_member_rejoins_without_rebalance(broker_factory, protocol):
    broker = broker_factory(**GROUP_BROKER)
    produce(broker.bootstrap, "static", 6)
    stay = consumer(broker.bootstrap, "static-group", protocol, **{"group.instance.id": "stay"})
    bounce = consumer(broker.bootstrap, "static-group", protocol, **{"group.instance.id": "bounce"})
    for client in (stay, bounce):
        client.subscribe(["static"])
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    try:
        assert poll_until([stay, bounce], lambda: exactly_once([stay, bounce], "static"))
        before = partitions_of(bounce)
        bounce.close()  # a static member does not leave the group on close
        [future] = admin.describe_consumer_groups(["static-group"]).values()
        assert len(future.result(10).members) == 2
        stay_partitions = partitions_of(stay)
        bounce = consumer(broker.bootstrap, "static-group", protocol, **{"group.instance.id": "bounce"})
        bounce.subscribe(["static"])
        assert poll_until([stay, bounce], lambda: partitions_of(bounce) == before and
                          exactly_once([stay, bounce], "static"))
        [future] = admin.describe_consumer_groups(["static-group"]).values()
        description = future.result(10)
        assert sorted(m.group_instance_id for m in description.members) == ["bounce", "stay"]
        assert partitions_of(stay) == stay_partitions
    finally:
        stay.close()
        bounce.close()
