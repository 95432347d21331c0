"""Consumer groups with kafka-python (group consumption, commits, admin group listing, description and
offsets, group deletion) and aiokafka (manual commit, restart resumes at the commit)."""
import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as AioTopicPartition
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from confluent_kafka.admin import AdminClient as ConfluentAdmin
from kafka.admin import KafkaAdminClient

GROUP_BROKER = {"num.partitions": 3, "group.initial.rebalance.delay.ms": 0, "offsets.topic.num.partitions": 5}


def kp_produce(bootstrap, topic, count):
    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    for index in range(count):
        producer.send(topic, value=b"k%d" % index, partition=index % 3)
    producer.flush(15)
    producer.close()


def kp_consumer(bootstrap, group, topic):
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                         enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500,
                         consumer_timeout_ms=15000)


def kp_read(consumer, count, timeout=20):
    records = []
    deadline = time.time() + timeout
    while len(records) < count and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=200, max_records=count - len(records)).values():
            records.extend(batch)
    return records


def test_kafka_python_group_consumption_commit_and_admin(broker_factory):
    broker = broker_factory(**GROUP_BROKER)
    # Create the topic with 3 partitions (metadata auto-creation) before producing.
    kp_produce(broker.bootstrap, "kp-group-topic", 12)
    consumer = kp_consumer(broker.bootstrap, "kp-group", "kp-group-topic")
    records = kp_read(consumer, 8)
    assert len(records) == 8
    consumer.commit()
    positions = {tp.partition: consumer.position(tp) for tp in consumer.assignment()}
    assert {consumer.committed(TopicPartition("kp-group-topic", p)) for p in range(3)} == set(positions.values()) or \
        all(consumer.committed(TopicPartition("kp-group-topic", p)) == positions[p] for p in range(3))

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        listed = admin.list_groups()
        assert [(g["group_id"], g["protocol_type"]) for g in listed] == [("kp-group", "consumer")]
        described = admin.describe_groups(["kp-group"])["kp-group"]
        assert described["group_state"] == "Stable"
        assert described["protocol_type"] == "consumer"
        assert described["protocol_data"] in ("range", "roundrobin", "sticky")
        [member] = described["members"]
        assert member["client_host"].endswith("127.0.0.1")
        offsets = admin.list_group_offsets("kp-group")["kp-group"]
        assert {tp.partition: meta.offset for tp, meta in offsets.items()} == positions
        assert admin.list_groups(states_filter=["Empty"]) == []

        consumer.close()
        described = admin.describe_groups(["kp-group"])["kp-group"]
        assert described["group_state"] == "Empty" and described["members"] == []
        # The group resumes where it committed.
        again = kp_consumer(broker.bootstrap, "kp-group", "kp-group-topic")
        rest = kp_read(again, 4)
        again.close()
        assert sorted((r.partition, r.offset) for r in rest) == sorted(
            (p, o) for p in range(3) for o in range(positions[p], 4))
        deleted = admin.delete_group_offsets("kp-group", [TopicPartition("kp-group-topic", 0)])
        assert all(error is None or getattr(error, "errno", 0) == 0 for error in deleted.values()), deleted
        remaining = admin.list_group_offsets("kp-group")["kp-group"]
        assert TopicPartition("kp-group-topic", 0) not in remaining and len(remaining) == 2
        admin.delete_groups(["kp-group"])
        assert admin.list_groups() == []
        # __consumer_offsets is listed when all topics are asked for, marked internal, sized by the broker config.
        metadata = ConfluentAdmin({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert len(metadata.topics["__consumer_offsets"].partitions) == 5
    finally:
        admin.close()


async def aio_consume_and_commit(bootstrap, group, topic, count):
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                enable_auto_commit=False, session_timeout_ms=6000, heartbeat_interval_ms=500)
    await consumer.start()
    try:
        seen = []
        deadline = time.time() + 20
        while len(seen) < count and time.time() < deadline:
            batches = await consumer.getmany(timeout_ms=200, max_records=count - len(seen))
            for records in batches.values():
                seen.extend((r.partition, r.offset) for r in records)
        await consumer.commit()
        committed = {p: await consumer.committed(AioTopicPartition(topic, p)) for p in range(3)}
        return seen, committed
    finally:
        await consumer.stop()


def test_aiokafka_manual_commit_and_restart_resume(broker_factory):
    broker = broker_factory(**GROUP_BROKER)

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
        await producer.start()
        try:
            for index in range(18):
                await producer.send_and_wait("aio-topic", b"a%d" % index, partition=index % 3)
        finally:
            await producer.stop()
        first, committed = await aio_consume_and_commit(broker.bootstrap, "aio-group", "aio-topic", 9)
        assert len(first) == 9
        for partition in range(3):
            mine = [o for (p, o) in first if p == partition]
            assert committed[partition] in ((max(mine) + 1,) if mine else (None, 0))
        broker.restart()
        second, _ = await aio_consume_and_commit(broker.bootstrap, "aio-group", "aio-topic", 9)
        assert sorted(first + second) == sorted((p, o) for p in range(3) for o in range(6))

    asyncio.run(scenario())
