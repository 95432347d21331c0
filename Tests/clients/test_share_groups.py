"""Share groups (KIP-932) with confluent-kafka's ShareConsumer (librdkafka): records split between consumers of
one partition, redelivery after RELEASE and after a killed consumer's lock expires, REJECT and the delivery
limit archiving records, a closed connection releasing its records at once, per-group configs
(share.auto.offset.reset, share.record.lock.duration.ms) through the admin client, deleting share groups through
the admin client, and a broker SIGKILL losing no acknowledgement."""
import signal
import subprocess
import sys
import textwrap
import threading
import time

from confluent_kafka import AcknowledgeType, KafkaException, Producer, ShareConsumer
from confluent_kafka.admin import AdminClient

import pytest

SHARE_BROKER = {"group.share.auto.offset.reset": "earliest", "group.share.record.lock.duration.ms": 3000,
                "group.share.delivery.count.limit": 3, "group.share.heartbeat.interval.ms": 500,
                "group.share.session.timeout.ms": 6000}


def produce(bootstrap, topic, count):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for index in range(count):
        producer.produce(topic, value=b"m%d" % index, partition=0)
    assert producer.flush(15) == 0


def create_topic(bootstrap, topic):
    from confluent_kafka.admin import NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(10)


def share_consumer(bootstrap, group, **extra):
    config = {"bootstrap.servers": bootstrap, "group.id": group}
    config.update(extra)
    consumer = ShareConsumer(config)
    return consumer


def values(messages):
    out = []
    for message in messages:
        assert message.error() is None, message.error()
        out.append(message.value())
    return out


def poll_until(consumer, predicate, timeout=20, on_batch=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        batch = [m for m in consumer.poll(0.5) if m.error() is None]
        if on_batch:
            on_batch(batch)
        if predicate():
            return True
    return False


def test_three_consumers_share_one_partition_without_overlap(broker_factory):
    broker = broker_factory(**SHARE_BROKER)
    create_topic(broker.bootstrap, "queue")
    expected = {b"m%d" % index for index in range(600)}
    received = [[], [], []]
    lock = threading.Lock()
    stop = threading.Event()
    joined = threading.Barrier(4)

    def run(slot):
        consumer = share_consumer(broker.bootstrap, "workers")
        consumer.subscribe(["queue"])
        try:
            consumer.poll(0.5)
            joined.wait(30)
            while not stop.is_set():
                got = values(consumer.poll(0.5))
                with lock:
                    received[slot].extend(got)
                    if len(set().union(*map(set, received))) >= len(expected):
                        stop.set()
            # Implicit acknowledgement accepts the records of a poll with the next one; the records of the last
            # poll before close are released, so every consumer polls once more before closing.
            got = values(consumer.poll(0.5))
            with lock:
                received[slot].extend(got)
        finally:
            consumer.close()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(3)]
    for thread in threads:
        thread.start()
    joined.wait(30)
    # Twelve stored batches of 50, produced while the consumers wait for records.
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 5})
    for batch in range(12):
        for index in range(batch * 50, batch * 50 + 50):
            producer.produce("queue", value=b"m%d" % index, partition=0)
        assert producer.flush(15) == 0
        time.sleep(0.05)
    stop.wait(40)
    stop.set()
    for thread in threads:
        thread.join(30)
    everything = [value for got in received for value in got]
    # Every record reaches exactly one consumer, once.
    for slot in range(3):
        assert len(received[slot]) == len(set(received[slot])), f"consumer {slot} got records twice"
    for a in range(3):
        for b in range(a + 1, 3):
            assert not set(received[a]) & set(received[b]), f"consumers {a} and {b} got the same records"
    assert set(everything) == expected
    assert len(everything) == len(expected)
    assert sum(1 for got in received if got) >= 2, [len(got) for got in received]


def test_released_records_are_redelivered_and_rejected_ones_never(broker_factory):
    broker = broker_factory(**SHARE_BROKER)
    create_topic(broker.bootstrap, "jobs")
    first = share_consumer(broker.bootstrap, "g", **{"share.acknowledgement.mode": "explicit"})
    first.subscribe(["jobs"])
    produce(broker.bootstrap, "jobs", 10)
    held = []
    assert poll_until(first, lambda: len(held) >= 10, on_batch=held.extend)
    # Release the even records, reject the odd ones.
    for message in held:
        index = int(message.value()[1:])
        first.acknowledge(message, AcknowledgeType.RELEASE if index % 2 == 0 else AcknowledgeType.REJECT)
    first.commit_sync(10)
    first.close()

    second = share_consumer(broker.bootstrap, "g", **{"share.acknowledgement.mode": "explicit"})
    second.subscribe(["jobs"])
    again = []

    def accept(batch):
        for message in batch:
            again.append(message)
            second.acknowledge(message, AcknowledgeType.ACCEPT)
        if batch:
            second.commit_sync(10)

    assert poll_until(second, lambda: len(again) >= 5, on_batch=accept)
    assert sorted(m.value() for m in again) == sorted(b"m%d" % i for i in range(0, 10, 2))
    # Nothing else arrives: rejected records are archived, accepted ones done.
    more = []
    poll_until(second, lambda: False, timeout=4, on_batch=more.extend)
    assert more == []
    second.close()


HOLDER = """
import os, signal, sys, time
from confluent_kafka import ShareConsumer
consumer = ShareConsumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2],
                          "share.acknowledgement.mode": "explicit"})
consumer.subscribe([sys.argv[3]])
got = 0
deadline = time.time() + 20
while got < 5 and time.time() < deadline:
    got += len([m for m in consumer.poll(0.5) if m.error() is None])
print(got, flush=True)
os.kill(os.getpid(), getattr(signal, sys.argv[4]))
time.sleep(60)
"""


def hold_five(broker, group, topic, how):
    """A share consumer in a child process that acquires five records and then stops (SIGSTOP: its connection
    stays open, its locks run out) or dies (SIGKILL: its connection closes). Returns the child."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, broker.bootstrap, group, topic, how],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "5"
    return holder


def test_stopped_consumers_records_come_back_after_the_lock_and_the_limit_archives(broker_factory):
    broker = broker_factory(**SHARE_BROKER)
    create_topic(broker.bootstrap, "locks")
    produce(broker.bootstrap, "locks", 5)
    holder = hold_five(broker, "locked", "locks", "SIGSTOP")
    stopped_at = time.time()
    try:
        survivor = share_consumer(broker.bootstrap, "locked", **{"share.acknowledgement.mode": "explicit"})
        survivor.subscribe(["locks"])
        seen = []

        def release(batch):
            for message in batch:
                seen.append((message.value(), time.time()))
                survivor.acknowledge(message, AcknowledgeType.RELEASE)
            if batch:
                survivor.commit_sync(10)

        # The stopped consumer's connection stays open: its records come back when the 3 s lock runs out (second
        # delivery), are released, delivered a third time, released: with a delivery limit of 3 they are
        # archived and never come back.
        poll_until(survivor, lambda: len(seen) >= 10, timeout=25, on_batch=release)
        assert len(seen) == 10
        first_back = min(at for _, at in seen)
        assert first_back - stopped_at > 2.0
        assert sorted(value for value, _ in seen) == sorted([b"m%d" % i for i in range(5)] * 2)
        rest = []
        poll_until(survivor, lambda: False, timeout=5, on_batch=rest.extend)
        assert rest == []
        survivor.close()
    finally:
        holder.kill()
        holder.wait()

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    # The survivor left and the stopped member's session ran out: the empty share group can be deleted
    # (DeleteGroups); a second delete finds no group.
    deadline = time.time() + 15
    while True:
        try:
            admin.delete_consumer_groups(["locked"])["locked"].result(10)
            break
        except KafkaException:
            if time.time() > deadline:
                raise
            time.sleep(0.5)
    with pytest.raises(KafkaException):
        admin.delete_consumer_groups(["locked"])["locked"].result(10)


def test_a_closed_connection_releases_its_records_at_once(broker_factory):
    # A 30 s lock: the records can only come back this soon because the connection closed.
    broker = broker_factory(**dict(SHARE_BROKER, **{"group.share.record.lock.duration.ms": 30000}))
    create_topic(broker.bootstrap, "dropped")
    produce(broker.bootstrap, "dropped", 5)
    holder = hold_five(broker, "dropping", "dropped", "SIGKILL")
    holder.wait()
    killed_at = time.time()
    survivor = share_consumer(broker.bootstrap, "dropping")
    survivor.subscribe(["dropped"])
    got = []
    poll_until(survivor, lambda: len(got) >= 5, timeout=20, on_batch=lambda batch: got.extend(values(batch)))
    survivor.close()
    assert sorted(got) == sorted(b"m%d" % i for i in range(5))
    assert time.time() - killed_at < 20


def test_group_configs_set_the_reset_and_the_lock_of_one_group(broker_factory):
    from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource,
                                       ResourceType)
    broker = broker_factory(**{"group.share.record.lock.duration.ms": 30000,
                               "group.share.min.record.lock.duration.ms": 1000,
                               "group.share.heartbeat.interval.ms": 500, "group.share.session.timeout.ms": 6000})
    create_topic(broker.bootstrap, "configured")
    produce(broker.bootstrap, "configured", 5)
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})

    def alter(group, **configs):
        resource = ConfigResource(ResourceType.GROUP, group, incremental_configs=[
            ConfigEntry(name.replace("_", "."), value, incremental_operation=AlterConfigOpType.SET)
            for name, value in configs.items()])
        return admin.incremental_alter_configs([resource])[resource].result(10)

    alter("early", share_auto_offset_reset="earliest", share_record_lock_duration_ms="2000")
    with pytest.raises(KafkaException, match="share.auto.offset.reset"):
        alter("early", share_auto_offset_reset="sometimes")
    with pytest.raises(KafkaException, match="greater than or equal to"):
        alter("early", share_record_lock_duration_ms="10")
    with pytest.raises(KafkaException, match="Unknown group config name"):
        alter("early", share_delivery_limit="3")
    resource = ConfigResource(ResourceType.GROUP, "early")
    described = admin.describe_configs([resource])[resource].result(10)
    assert described["share.auto.offset.reset"].value == "earliest"
    assert described["share.auto.offset.reset"].source == ConfigSource.GROUP_CONFIG.value
    assert described["share.record.lock.duration.ms"].value == "2000"
    assert described["share.session.timeout.ms"].value == "6000"
    assert described["share.session.timeout.ms"].source == ConfigSource.DEFAULT_CONFIG.value

    # The group set to earliest reads what was produced before it; the broker's latest leaves another group
    # only what comes later.
    late = share_consumer(broker.bootstrap, "late")
    late.subscribe(["configured"])
    poll_until(late, lambda: False, timeout=3)
    holder = hold_five(broker, "early", "configured", "SIGSTOP")
    stopped_at = time.time()
    try:
        # The group's 2 s lock, not the broker's 30 s one, gives the stopped member's records to another.
        survivor = share_consumer(broker.bootstrap, "early")
        survivor.subscribe(["configured"])
        again = []
        poll_until(survivor, lambda: len(again) >= 5, timeout=20,
                   on_batch=lambda batch: again.extend(values(batch)))
        survivor.close()
        assert sorted(again) == sorted(b"m%d" % i for i in range(5))
        assert time.time() - stopped_at < 20
    finally:
        holder.kill()
        holder.wait()
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for index in range(3):
        producer.produce("configured", value=b"later%d" % index, partition=0)
    assert producer.flush(15) == 0
    later = []
    poll_until(late, lambda: len(later) >= 3, timeout=20, on_batch=lambda batch: later.extend(values(batch)))
    poll_until(late, lambda: False, timeout=2, on_batch=lambda batch: later.extend(values(batch)))
    late.close()
    assert sorted(later) == [b"later0", b"later1", b"later2"]


def test_a_broker_kill_loses_no_acknowledgement(broker_factory):
    broker = broker_factory(**SHARE_BROKER)
    create_topic(broker.bootstrap, "durable")
    produce(broker.bootstrap, "durable", 20)
    consumer = share_consumer(broker.bootstrap, "keep", **{"share.acknowledgement.mode": "explicit"})
    consumer.subscribe(["durable"])
    held = []
    assert poll_until(consumer, lambda: len(held) >= 20, on_batch=held.extend)
    accepted = set()
    for message in held:
        index = int(message.value()[1:])
        if index < 12:
            consumer.acknowledge(message, AcknowledgeType.ACCEPT)
            accepted.add(message.value())
        else:
            consumer.acknowledge(message, AcknowledgeType.RELEASE)
    # commit_sync returns once the broker answered: the acknowledgements are durable then.
    consumer.commit_sync(10)
    consumer.close()
    broker.stop(signal.SIGKILL)
    broker.start()

    after = share_consumer(broker.bootstrap, "keep")
    after.subscribe(["durable"])
    again = []
    poll_until(after, lambda: len(again) >= 8, timeout=30, on_batch=lambda batch: again.extend(values(batch)))
    more = []
    poll_until(after, lambda: False, timeout=3, on_batch=lambda batch: more.extend(values(batch)))
    after.close()
    assert sorted(again + more) == sorted(b"m%d" % index for index in range(12, 20))


def share_state_key_versions(bootstrap):
    """The key versions (0: ShareSnapshot, 1: ShareUpdate) of every record in __share_group_state."""
    from confluent_kafka import Consumer, TopicPartition
    admin = AdminClient({"bootstrap.servers": bootstrap})
    partitions = admin.list_topics("__share_group_state", timeout=10).topics["__share_group_state"].partitions
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": "state-reader", "enable.auto.commit": False,
                       "enable.partition.eof": True})
    reader.assign([TopicPartition("__share_group_state", index, 0) for index in partitions])
    versions, ended, deadline = [], set(), time.time() + 20
    while len(ended) < len(partitions) and time.time() < deadline:
        message = reader.poll(0.5)
        if message is None:
            continue
        if message.error():
            ended.add(message.partition())
            continue
        versions.append(int.from_bytes(message.key()[:2], "big"))
    reader.close()
    return versions


def test_delivery_counts_and_archives_survive_broker_kills(broker_factory):
    # Delivery limit 3: m3-m5 are released twice, the broker is killed, their third delivery counts 3 and its
    # release archives them; m0-m2 were accepted and never come back, nor do the archived ones after another kill.
    broker = broker_factory(**SHARE_BROKER)
    create_topic(broker.bootstrap, "counted")
    produce(broker.bootstrap, "counted", 6)
    explicit = {"share.acknowledgement.mode": "explicit"}
    consumer = share_consumer(broker.bootstrap, "counting", **explicit)
    consumer.subscribe(["counted"])
    first = []
    assert poll_until(consumer, lambda: len(first) >= 6, on_batch=first.extend)
    assert sorted(m.delivery_count() for m in first) == [1] * 6
    for message in first:
        index = int(message.value()[1:])
        consumer.acknowledge(message, AcknowledgeType.ACCEPT if index < 3 else AcknowledgeType.RELEASE)
    consumer.commit_sync(10)
    second = []
    assert poll_until(consumer, lambda: len(second) >= 3, on_batch=second.extend)
    assert sorted((m.value(), m.delivery_count()) for m in second) == [(b"m3", 2), (b"m4", 2), (b"m5", 2)]
    for message in second:
        consumer.acknowledge(message, AcknowledgeType.RELEASE)
    consumer.commit_sync(10)
    consumer.close()
    broker.stop(signal.SIGKILL)
    broker.start()

    after = share_consumer(broker.bootstrap, "counting", **explicit)
    after.subscribe(["counted"])
    third = []
    assert poll_until(after, lambda: len(third) >= 3, timeout=30, on_batch=third.extend)
    assert sorted((m.value(), m.delivery_count()) for m in third) == [(b"m3", 3), (b"m4", 3), (b"m5", 3)]
    for message in third:
        after.acknowledge(message, AcknowledgeType.RELEASE)
    after.commit_sync(10)
    rest = []
    poll_until(after, lambda: False, timeout=4, on_batch=rest.extend)
    assert rest == []
    after.close()
    # The changes went to __share_group_state as ShareUpdate records after a first ShareSnapshot.
    versions = share_state_key_versions(broker.bootstrap)
    assert versions[0] == 0 and versions.count(1) >= 2, versions

    broker.stop(signal.SIGKILL)
    broker.start()
    last = share_consumer(broker.bootstrap, "counting")
    last.subscribe(["counted"])
    rest = []
    poll_until(last, lambda: False, timeout=5, on_batch=rest.extend)
    last.close()
    assert rest == []
