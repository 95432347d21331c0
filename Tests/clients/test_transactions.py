"""Transactions with confluent-kafka (librdkafka): commit/abort seen by read_committed and read_uncommitted
consumers, consume-transform-produce with send_offsets_to_transaction, zombie fencing, and a broker killed with
a transaction open."""
import signal
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TXN_BROKER = {"group.initial.rebalance.delay.ms": 0, "transaction.state.log.num.partitions": 5,
              "offsets.topic.num.partitions": 5}


def create_topic(bootstrap, name, partitions=2):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)]).values():
        future.result(15)


def transactional_producer(bootstrap, transactional_id, **extra):
    config = {"bootstrap.servers": bootstrap, "transactional.id": transactional_id, "linger.ms": 5}
    config.update(extra)
    producer = Producer(config)
    producer.init_transactions(30)
    return producer


def read_all(bootstrap, topic, partitions, isolation, expected, timeout=20):
    """Values per partition, read from the start with `isolation` until `expected` values or the timeout."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time()}",
                         "isolation.level": isolation, "enable.auto.commit": False,
                         "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    values = {p: [] for p in range(partitions)}
    deadline = time.time() + timeout
    try:
        while sum(len(v) for v in values.values()) < expected and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            values[message.partition()].append(message.value())
        # Anything beyond what was expected arrives within a short extra wait.
        end = time.time() + 1.0
        while time.time() < end:
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                values[message.partition()].append(message.value())
    finally:
        consumer.close()
    return values


def test_commit_abort_commit_read_committed_sees_only_committed(broker_factory):
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "txn-orders")
    producer = transactional_producer(broker.bootstrap, "orders-writer")
    for label, commit in ((b"c1", True), (b"ab", False), (b"c2", True)):
        producer.begin_transaction()
        for index in range(6):
            producer.produce("txn-orders", value=b"%s-%d" % (label, index), partition=index % 2)
        if commit:
            producer.commit_transaction(30)
        else:
            producer.flush(10)  # sent first, so the aborted records are in the log (abort purges queued ones)
            producer.abort_transaction(30)
    committed = read_all(broker.bootstrap, "txn-orders", 2, "read_committed", 8)
    assert committed == {0: [b"c1-0", b"c1-2", b"c1-4", b"c2-0", b"c2-2", b"c2-4"],
                         1: [b"c1-1", b"c1-3", b"c1-5", b"c2-1", b"c2-3", b"c2-5"]}
    uncommitted = read_all(broker.bootstrap, "txn-orders", 2, "read_uncommitted", 18)
    assert uncommitted[0] == [b"c1-0", b"c1-2", b"c1-4", b"ab-0", b"ab-2", b"ab-4", b"c2-0", b"c2-2", b"c2-4"]
    assert len(uncommitted[1]) == 9
    # An open transaction holds read_committed readers back at its first offset.
    producer.begin_transaction()
    producer.produce("txn-orders", value=b"open", partition=0)
    producer.flush(10)
    assert read_all(broker.bootstrap, "txn-orders", 2, "read_committed", 13, timeout=3) == committed
    producer.commit_transaction(30)
    assert read_all(broker.bootstrap, "txn-orders", 2, "read_committed", 13)[0][-1] == b"open"


def test_consume_transform_produce_is_exactly_once(broker_factory):
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "ctp-in", 1)
    create_topic(broker.bootstrap, "ctp-out", 1)
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    for index in range(30):
        plain.produce("ctp-in", value=b"%d" % index, partition=0)
    assert plain.flush(15) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ctp", "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    consumer.subscribe(["ctp-in"])
    producer = transactional_producer(broker.bootstrap, "ctp-app")
    group = TopicPartition("ctp-in", 0)
    done = 0
    aborted_once = False
    deadline = time.time() + 40
    while done < 30 and time.time() < deadline:
        messages = [m for m in consumer.consume(10, 1.0) if not m.error()]
        if not messages:
            continue
        producer.begin_transaction()
        for message in messages:
            producer.produce("ctp-out", value=b"out-" + message.value(), partition=0)
        producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                             consumer.consumer_group_metadata(), 30)
        if not aborted_once:
            producer.flush(10)
            # The first batch is aborted once: its output vanishes and the group's offset does not move.
            producer.abort_transaction(30)
            aborted_once = True
            assert consumer.committed([group], 10)[0].offset < 0
            consumer.seek(TopicPartition("ctp-in", 0, messages[0].offset()))
            continue
        producer.commit_transaction(30)
        done = messages[-1].offset() + 1
        assert consumer.committed([group], 10)[0].offset == done
    consumer.close()
    assert done == 30
    output = read_all(broker.bootstrap, "ctp-out", 1, "read_committed", 30)[0]
    assert output == [b"out-%d" % index for index in range(30)]


def test_second_producer_fences_the_first(broker_factory):
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "fence", 1)
    zombie = transactional_producer(broker.bootstrap, "fenced-app")
    zombie.begin_transaction()
    zombie.produce("fence", value=b"zombie", partition=0)
    zombie.flush(10)
    successor = transactional_producer(broker.bootstrap, "fenced-app")
    fenced = False
    try:
        zombie.produce("fence", value=b"zombie-2", partition=0)
        zombie.commit_transaction(20)
    except KafkaException as error:
        fenced = error.args[0].fatal() or "fenced" in str(error).lower() or "epoch" in str(error).lower()
    assert fenced
    successor.begin_transaction()
    successor.produce("fence", value=b"successor", partition=0)
    successor.commit_transaction(30)
    assert read_all(broker.bootstrap, "fence", 1, "read_committed", 1)[0] == [b"successor"]


def test_broker_killed_with_open_transaction_aborts_it_after_restart(broker_factory):
    broker = broker_factory(transaction_abort_timed_out_transaction_cleanup_interval_ms=300, **TXN_BROKER)
    create_topic(broker.bootstrap, "crash", 1)
    producer = transactional_producer(broker.bootstrap, "crash-app", **{"transaction.timeout.ms": 4000})
    producer.begin_transaction()
    producer.produce("crash", value=b"kept", partition=0)
    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce("crash", value=b"lost", partition=0)
    producer.flush(10)
    broker.stop(signal.SIGKILL)
    broker.start()
    # The open transaction is aborted on its timeout; data committed afterwards becomes visible.
    other = transactional_producer(broker.bootstrap, "crash-other")
    other.begin_transaction()
    other.produce("crash", value=b"after", partition=0)
    other.commit_transaction(30)
    assert read_all(broker.bootstrap, "crash", 1, "read_committed", 2, timeout=25)[0] == [b"kept", b"after"]
    assert read_all(broker.bootstrap, "crash", 1, "read_uncommitted", 3)[0] == [b"kept", b"lost", b"after"]


def _compact_string(text):
    data = text.encode()
    return bytes([len(data) + 1]) + data


def _flexible_call(port, api_key, version, body):
    import socket
    from kafka_wire import frame, read_response
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame(api_key, version, 7, b"\x00" + body))
        answer = read_response(sock)
    assert answer[:4] == (7).to_bytes(4, "big")
    return answer[5:]  # correlation id, empty header tags


def _read_compact_string(data, position):
    length = data[position] - 1
    return data[position + 1:position + 1 + length].decode(), position + 1 + length


def test_describe_and_list_transactions(broker_factory):
    import struct
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "admin-txn", 1)
    producer = transactional_producer(broker.bootstrap, "admin-app")
    producer.begin_transaction()
    producer.produce("admin-txn", value=b"x", partition=0)
    producer.flush(10)
    body = bytes([3]) + _compact_string("admin-app") + _compact_string("nobody") + b"\x00"
    answer = _flexible_call(broker.port, 65, 0, body)
    assert answer[4] == 3  # two states
    error, = struct.unpack(">h", answer[5:7])
    name, position = _read_compact_string(answer, 7)
    state, position = _read_compact_string(answer, position)
    assert (error, name, state) == (0, "admin-app", "Ongoing")
    timeout, start, producer_id, epoch = struct.unpack(">iqqh", answer[position:position + 22])
    assert timeout == 60000 and start > 0 and producer_id >= 0 and epoch == 0
    # The unknown id: TRANSACTIONAL_ID_NOT_FOUND.
    assert b"nobody" in answer and struct.pack(">h", 105) in answer
    # ListTransactions v1: state filter Ongoing plus an unknown state name, no producer or duration filter.
    body = bytes([3]) + _compact_string("Ongoing") + _compact_string("Bogus") + bytes([1]) + struct.pack(">q", -1) + b"\x00"
    answer = _flexible_call(broker.port, 66, 1, body)
    error, = struct.unpack(">h", answer[4:6])
    assert error == 0 and answer[6] == 2
    unknown, position = _read_compact_string(answer, 7)
    assert unknown == "Bogus" and answer[position] == 2
    listed, position = _read_compact_string(answer, position + 1)
    assert listed == "admin-app"
    producer.commit_transaction(30)
    answer = _flexible_call(broker.port, 66, 1, bytes([2]) + _compact_string("Ongoing") + bytes([1])
                            + struct.pack(">q", -1) + b"\x00")
    assert answer[7] == 1  # none ongoing any more


def test_kafka_python_and_aiokafka_transactional_producers(broker_factory):
    import asyncio

    from aiokafka import AIOKafkaProducer
    from kafka import KafkaProducer
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "py-txn", 1)
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="kafka-python-app")
    producer.init_transactions()
    producer.begin_transaction()
    producer.send("py-txn", b"kp-aborted", partition=0)
    producer.flush()
    producer.abort_transaction()
    producer.begin_transaction()
    producer.send("py-txn", b"kp-committed", partition=0)
    producer.commit_transaction()
    producer.close()

    async def aio():
        aio_producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, transactional_id="aiokafka-app")
        await aio_producer.start()
        try:
            async with aio_producer.transaction():
                await aio_producer.send_and_wait("py-txn", b"aio-committed", partition=0)
            await aio_producer.begin_transaction()
            await aio_producer.send_and_wait("py-txn", b"aio-aborted", partition=0)
            await aio_producer.abort_transaction()
        finally:
            await aio_producer.stop()

    asyncio.run(aio())
    assert read_all(broker.bootstrap, "py-txn", 1, "read_committed", 2)[0] == [b"kp-committed", b"aio-committed"]
    assert len(read_all(broker.bootstrap, "py-txn", 1, "read_uncommitted", 4)[0]) == 4


def test_write_txn_markers_aborts_a_hanging_transaction(broker_factory):
    import struct
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "hanging", 1)
    producer = transactional_producer(broker.bootstrap, "hanging-app")
    producer.begin_transaction()
    producer.produce("hanging", value=b"hung", partition=0)
    producer.flush(10)
    answer = _flexible_call(broker.port, 65, 0, bytes([2]) + _compact_string("hanging-app") + b"\x00")
    _, position = _read_compact_string(answer, 7)
    _, position = _read_compact_string(answer, position)
    _, _, producer_id, epoch = struct.unpack(">iqqh", answer[position:position + 22])
    marker = (struct.pack(">qh?", producer_id, epoch, False) + bytes([2]) + _compact_string("hanging")
              + bytes([2]) + struct.pack(">i", 0) + b"\x00" + struct.pack(">i", 0) + b"\x00")
    answer = _flexible_call(broker.port, 27, 1, bytes([2]) + marker + b"\x00")
    assert struct.unpack(">q", answer[1:9])[0] == producer_id
    assert answer.endswith(struct.pack(">ih", 0, 0) + b"\x00\x00\x00\x00")
    plain = transactional_producer(broker.bootstrap, "hanging-other")
    plain.begin_transaction()
    plain.produce("hanging", value=b"later", partition=0)
    plain.commit_transaction(30)
    assert read_all(broker.bootstrap, "hanging", 1, "read_committed", 1)[0] == [b"later"]
