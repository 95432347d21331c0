"""Idempotent producers against portaskd: real clients read every message back exactly once and in order; raw
Produce requests show duplicates answered with the original offset, sequence gaps and fenced epochs rejected,
and dedupe surviving a clean restart and a SIGKILL."""
import signal
import socket
import struct
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.admin import KafkaAdminClient
from kafka.record.default_records import DefaultRecordBatchBuilder

OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47


class RawClient:
    """Just enough of the Kafka wire protocol to send hand-made idempotent Produce requests."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.correlation = 0

    def close(self):
        self.sock.close()

    def _receive(self, size):
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    def call(self, api_key, version, body, flexible):
        self.correlation += 1
        header = struct.pack(">hhih", api_key, version, self.correlation, 4) + b"test"
        if flexible:
            header += b"\x00"
        frame = header + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", self._receive(4))[0]
        payload = self._receive(size)
        assert struct.unpack(">i", payload[:4])[0] == self.correlation
        return payload[5:] if flexible else payload[4:]

    def init_producer_id(self, producer_id=-1, epoch=-1, transactional_id=None):
        """InitProducerId v3 (flexible): returns (error, producer id, epoch)."""
        txn = b"\x00" if transactional_id is None else bytes([len(transactional_id) + 1]) + transactional_id.encode()
        body = txn + struct.pack(">iqh", 60000, producer_id, epoch) + b"\x00"
        response = self.call(22, 3, body, flexible=True)
        _, error, pid, got_epoch = struct.unpack(">ihqh", response[:16])
        return error, pid, got_epoch

    def produce(self, topic, batch, acks=-1):
        """Produce v3 of one batch to partition 0: returns (error, base offset)."""
        name = topic.encode()
        body = (struct.pack(">hhi", -1, acks, 10000) + struct.pack(">ih", 1, len(name)) + name
                + struct.pack(">iii", 1, 0, len(batch)) + batch)
        response = self.call(0, 3, body, flexible=False)
        position = 4
        (name_length,) = struct.unpack(">h", response[position:position + 2])
        position += 2 + name_length + 4
        _, error, base_offset, _ = struct.unpack(">ihqq", response[position:position + 22])
        return error, base_offset

    def describe_producers(self, topic):
        """DescribeProducers v0 (flexible) of partition 0: returns (error, [(pid, epoch, last sequence)])."""
        name = topic.encode()
        body = b"\x02" + bytes([len(name) + 1]) + name + b"\x02" + struct.pack(">i", 0) + b"\x00" + b"\x00"
        response = self.call(61, 0, body, flexible=True)
        position = 4 + 1  # throttle, topic count
        position += 1 + response[position] - 1 + 1  # topic name (compact, short), partition count
        _, error = struct.unpack(">ih", response[position:position + 6])
        position += 6
        position += 1 + max(response[position] - 1, 0)  # error message (compact nullable)
        count = response[position] - 1
        position += 1
        producers = []
        for _ in range(count):
            pid, epoch, last_sequence, _, _, _ = struct.unpack(">qiiqiq", response[position:position + 36])
            producers.append((pid, epoch, last_sequence))
            position += 37
        return error, producers


def idempotent_batch(producer_id, epoch, sequence, values):
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=producer_id,
                                        producer_epoch=epoch, base_sequence=sequence, batch_size=1 << 20)
    now = int(time.time() * 1000)
    for offset, value in enumerate(values):
        builder.append(offset, timestamp=now, key=b"k", value=value, headers=[])
    return bytes(builder.build())


def create_topic(broker, topic):
    """Auto-creates `topic` through a metadata request."""
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    metadata = producer.list_topics(topic=topic, timeout=10)
    assert topic in metadata.topics and not metadata.topics[topic].error


def read_values(broker, topic, partitions=(0,)):
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "unused",
                         "enable.auto.commit": False})
    try:
        result = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            values = []
            consumer.assign([TopicPartition(topic, partition, low)])
            deadline = time.time() + 20
            while len(values) < high - low and time.time() < deadline:
                for message in consumer.consume(num_messages=1000, timeout=1):
                    assert not message.error(), message.error()
                    values.append(message.value())
            result[partition] = values
        return result
    finally:
        consumer.close()


def test_confluent_kafka_idempotent_producer_delivers_each_message_once_in_order(broker):
    topic = "ck-idempotent"
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 2, "batch.num.messages": 50})
    sent = [f"value-{index}".encode() for index in range(2000)]
    failures = []
    for index, value in enumerate(sent):
        producer.produce(topic, key=f"key-{index % 7}".encode(), value=value,
                         on_delivery=lambda error, _: error and failures.append(error))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failures == []
    assert read_values(broker, topic)[0] == sent
    client = RawClient(broker.port)
    try:
        error, producers = client.describe_producers(topic)
    finally:
        client.close()
    assert error == 0
    assert len(producers) == 1 and producers[0][1] == 0 and producers[0][2] == len(sent) - 1


def test_kafka_python_idempotent_producer_delivers_each_message_once_in_order(broker):
    topic = "kp-idempotent"
    create_topic(broker, topic)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=2, request_timeout_ms=10000)
    try:
        assert producer.config["enable_idempotence"]
        sent = [f"value-{index}".encode() for index in range(500)]
        futures = [producer.send(topic, key=b"key", value=value, partition=0) for value in sent]
        producer.flush(30)
        offsets = [future.get(timeout=10).offset for future in futures]
    finally:
        producer.close(timeout=10)
    assert offsets == list(range(len(sent)))
    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=2000)
    try:
        partition = KafkaTopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        received = [record.value for record in consumer]
    finally:
        consumer.close()
    assert received == sent
    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        described = admin.describe_producers([partition])
    finally:
        admin.close()
    [state] = described[partition].active_producers
    assert state.producer_epoch == 0 and state.last_sequence == len(sent) - 1
    assert state.coordinator_epoch == -1 and state.current_transaction_start_offset == -1
    assert abs(state.last_timestamp - time.time() * 1000) < 60000


def test_duplicate_batch_gets_the_original_offset_and_is_stored_once(broker):
    topic = "raw-duplicates"
    create_topic(broker, topic)
    client = RawClient(broker.port)
    try:
        assert client.produce(topic, idempotent_batch(-1, -1, -1, [b"plain"]))[0] == 0
        error, pid, epoch = client.init_producer_id()
        assert (error, epoch) == (0, 0) and pid >= 0
        first = idempotent_batch(pid, 0, 0, [b"a", b"b", b"c"])
        assert client.produce(topic, first) == (0, 1)
        assert client.produce(topic, first) == (0, 1)
        assert client.produce(topic, idempotent_batch(pid, 0, 3, [b"d"])) == (0, 4)
        assert client.produce(topic, first) == (0, 1)
        # A gap in the sequence and a sequence from the past that is no retained batch.
        assert client.produce(topic, idempotent_batch(pid, 0, 9, [b"x"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert client.produce(topic, idempotent_batch(pid, 0, 1, [b"x"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        # Re-initialising bumps the epoch: the new epoch starts at 0 and the old one is fenced.
        error, same_pid, bumped = client.init_producer_id(pid, 0)
        assert (error, same_pid, bumped) == (0, pid, 1)
        assert client.produce(topic, idempotent_batch(pid, 1, 5, [b"x"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert client.produce(topic, idempotent_batch(pid, 1, 0, [b"e"])) == (0, 5)
        assert client.produce(topic, idempotent_batch(pid, 0, 4, [b"x"]))[0] == INVALID_PRODUCER_EPOCH
        # A transactional id is served by the transaction coordinator: a producer id of its own.
        error, txn_pid, txn_epoch = client.init_producer_id(transactional_id="txn")
        assert error == 0 and txn_pid != pid and txn_epoch == 0
        assert client.describe_producers(topic) == (0, [(pid, 1, 0)])
        assert client.describe_producers("no-such-topic")[0] == 3
    finally:
        client.close()
    assert read_values(broker, topic)[0] == [b"plain", b"a", b"b", b"c", b"d", b"e"]


def dedupe_survives(broker, stop):
    topic = "raw-restart"
    create_topic(broker, topic)
    client = RawClient(broker.port)
    try:
        _, pid, _ = client.init_producer_id()
        batches = [idempotent_batch(pid, 0, sequence * 2, [b"%d" % sequence, b"+"]) for sequence in range(6)]
        for index, batch in enumerate(batches):
            assert client.produce(topic, batch) == (0, index * 2)
    finally:
        client.close()
    stop()
    client = RawClient(broker.port)
    try:
        for index, batch in enumerate(batches[1:], start=1):
            assert client.produce(topic, batch) == (0, index * 2)
        assert client.produce(topic, idempotent_batch(pid, 0, 3, [b"x"]))[0] == OUT_OF_ORDER_SEQUENCE_NUMBER
        assert client.produce(topic, idempotent_batch(pid, 0, 12, [b"next"])) == (0, 12)
        _, new_pid, _ = client.init_producer_id()
        assert new_pid > pid
    finally:
        client.close()
    values = read_values(broker, topic)[0]
    assert values == [value for sequence in range(6) for value in (b"%d" % sequence, b"+")] + [b"next"]


def test_dedupe_survives_a_clean_restart(broker):
    dedupe_survives(broker, broker.restart)


def test_dedupe_survives_sigkill(broker):
    def crash():
        broker.stop(signal.SIGKILL)
        broker.start()
    dedupe_survives(broker, crash)


def test_aiokafka_idempotent_producer_delivers_each_message_once_in_order(broker):
    import asyncio

    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.structs import TopicPartition as AioTopicPartition

    topic = "aio-idempotent"
    create_topic(broker, topic)
    sent = [f"value-{index}".encode() for index in range(300)]

    async def scenario():
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=True, linger_ms=2)
        await producer.start()
        try:
            futures = [await producer.send(topic, value=value, key=b"key", partition=0) for value in sent]
            offsets = [(await future).offset for future in futures]
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = AioTopicPartition(topic, 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            received = []
            while len(received) < len(sent):
                batches = await asyncio.wait_for(consumer.getmany(partition, timeout_ms=1000), timeout=10)
                received += [record.value for record in batches.get(partition, [])]
        finally:
            await consumer.stop()
        return offsets, received

    offsets, received = asyncio.run(asyncio.wait_for(scenario(), timeout=40))
    assert offsets == list(range(len(sent)))
    assert received == sent
    client = RawClient(broker.port)
    try:
        error, producers = client.describe_producers(topic)
    finally:
        client.close()
    assert error == 0 and len(producers) == 1 and producers[0][2] == len(sent) - 1


def test_confluent_kafka_producer_keeps_exactly_once_across_a_broker_crash(broker):
    topic = "ck-crash"
    create_topic(broker, topic)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "enable.idempotence": True, "acks": "all",
                         "linger.ms": 5, "batch.num.messages": 20, "message.timeout.ms": 40000,
                         "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 200})
    sent = [f"value-{index}".encode() for index in range(3000)]
    failures = []
    for index, value in enumerate(sent):
        producer.produce(topic, key=b"key", value=value, partition=0,
                         on_delivery=lambda error, _: error and failures.append(error))
        producer.poll(0)
        if index == 1500:
            broker.stop(signal.SIGKILL)
            broker.start()
    assert producer.flush(40) == 0
    assert failures == []
    assert read_values(broker, topic)[0] == sent


def test_two_connections_retrying_the_same_batches_store_each_once(broker):
    import threading

    topic = "raw-race"
    create_topic(broker, topic)
    setup = RawClient(broker.port)
    try:
        _, pid, _ = setup.init_producer_id()
    finally:
        setup.close()
    batches = [idempotent_batch(pid, 0, index, [b"%d" % index]) for index in range(50)]
    results = [[], []]
    barrier = threading.Barrier(2, timeout=20)

    def send(slot):
        client = RawClient(broker.port)
        try:
            for batch in batches:
                # Both connections send batch i at once, once both saw batch i - 1 answered: one appends it,
                # the other gets the duplicate's offset.
                barrier.wait()
                results[slot].append(client.produce(topic, batch, acks=1))
        finally:
            client.close()

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results[0] == results[1] == [(0, index) for index in range(50)]
    assert read_values(broker, topic)[0] == [b"%d" % index for index in range(50)]
