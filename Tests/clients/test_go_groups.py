"""Consumer groups with Debian's Go clients: Sarama 1.22.1 ConsumerGroup (MarkMessage) and kafka-go 0.2.1
Reader with a GroupID. Committed offsets equal the next offsets after Close, and a second run resumes there."""
import subprocess

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from test_go_clients import build_go_programs, check_go_exit, parse_go_output


@pytest.fixture(scope="module")
def group_binaries(tmp_path_factory):
    return build_go_programs(tmp_path_factory.mktemp("go-group-bin"), ("portask-sarama-group", "portask-kafkago-group"))


def produce(broker, topic, partitions, count, start=0):
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    if start == 0:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 2})
    for i in range(start, start + count):
        producer.produce(topic, value=f"m{i}".encode(), partition=i % partitions)
    assert producer.flush(20) == 0


def consume_in_group(binary, broker, topic, group, count):
    result = subprocess.run([str(binary), "-brokers", broker.bootstrap, "-topic", topic, "-group", group,
                             "-count", str(count)], capture_output=True, text=True, timeout=90)
    check_go_exit(result)
    return parse_go_output(result)


def committed(broker, topic, group, partitions):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group})
    try:
        offsets = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset for tp in offsets}


def next_offsets(messages, partitions):
    result = {p: -1001 for p in range(partitions)}
    for message in messages:
        result[message["partition"]] = max(result[message["partition"]], message["offset"] + 1)
    return result


@pytest.mark.parametrize("program", ["portask-sarama-group", "portask-kafkago-group"])
def test_go_group_consumers_commit_and_resume(group_binaries, broker, program):
    topic, group, partitions = f"{program}-t", f"{program}-g", 3
    produce(broker, topic, partitions, 30)
    first = consume_in_group(group_binaries[program], broker, topic, group, 30)
    assert sorted(m["value"] for m in first) == sorted(f"m{i}" for i in range(30))
    assert committed(broker, topic, group, partitions) == next_offsets(first, partitions)

    produce(broker, topic, partitions, 12, start=30)
    second = consume_in_group(group_binaries[program], broker, topic, group, 12)
    assert sorted(m["value"] for m in second) == sorted(f"m{i}" for i in range(30, 42))
    assert committed(broker, topic, group, partitions) == next_offsets(first + second, partitions)
