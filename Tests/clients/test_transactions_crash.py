"""Transactions across a broker SIGKILL: between EndTxn and the last marker (commit and abort), with a
transaction open, and with the `.txnindex` files and producer snapshots lost. After the restart every
transaction ends as its durable state says, read_committed readers never see aborted or half-committed data,
and portask-verify finds the data directory clean."""
import json
import signal
import threading
import time

from test_transactions import TXN_BROKER, create_topic, read_all, transactional_producer
from test_verify import run_verify

PARTITIONS = 3
FAULT_LINE = b"delaying transaction markers"


def produce_each_partition(producer, label):
    for partition in range(PARTITIONS):
        producer.produce("crash-mid", value=b"%s-%d" % (label, partition), partition=partition)
    assert producer.flush(10) == 0


def wait_for_fault_points(broker, count, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if broker.log_path.read_bytes().count(FAULT_LINE) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"the marker fault point was not reached {count} times")


def end_in_background(producer, commit):
    outcome = {}

    def run():
        try:
            (producer.commit_transaction if commit else producer.abort_transaction)(60)
            outcome["ok"] = True
        except Exception as error:  # the broker dies under it; the outcome is checked through the log
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def per_partition(label):
    return [b"%s-%d" % (label, partition) for partition in range(PARTITIONS)]


def test_broker_killed_between_end_txn_and_last_marker(broker_factory):
    broker = broker_factory(transaction_abort_timed_out_transaction_cleanup_interval_ms=300, **TXN_BROKER)
    create_topic(broker.bootstrap, "crash-mid", PARTITIONS)
    writer = transactional_producer(broker.bootstrap, "crash-writer")
    aborter = transactional_producer(broker.bootstrap, "crash-aborter")
    holder = transactional_producer(broker.bootstrap, "crash-holder", **{"transaction.timeout.ms": 20000})
    # Completed before the crash: an aborted and a committed transaction.
    writer.begin_transaction()
    produce_each_partition(writer, b"x")
    writer.abort_transaction(30)
    writer.begin_transaction()
    produce_each_partition(writer, b"k")
    writer.commit_transaction(30)
    # Crash state: one transaction open, one abort and one commit with only their first marker written.
    broker.stop()
    broker.overrides["test.transaction.marker.delay.ms"] = "15000"
    broker.start()
    seen = broker.log_path.read_bytes().count(FAULT_LINE)
    holder.begin_transaction()
    produce_each_partition(holder, b"open")
    aborter.begin_transaction()
    produce_each_partition(aborter, b"a")
    abort_thread, _ = end_in_background(aborter, commit=False)
    wait_for_fault_points(broker, seen + 1)
    writer.begin_transaction()
    produce_each_partition(writer, b"c")
    commit_thread, _ = end_in_background(writer, commit=True)
    wait_for_fault_points(broker, seen + 2)
    broker.stop(signal.SIGKILL)
    # Recovery must rebuild both from the log: the aborted-transaction index and the open transaction.
    for partition in range(PARTITIONS):
        directory = broker.data_dir / f"crash-mid-{partition}"
        for lost in list(directory.glob("*.txnindex")) + list(directory.glob("*.snapshot")):
            lost.unlink()
    broker.overrides["test.transaction.marker.delay.ms"] = "0"
    broker.start()
    # The open transaction holds read_committed readers back; the aborted x is skipped through the rebuilt index.
    early = read_all(broker.bootstrap, "crash-mid", PARTITIONS, "read_committed", PARTITIONS, timeout=3)
    assert early == {p: [b"k-%d" % p] for p in range(PARTITIONS)}
    after = transactional_producer(broker.bootstrap, "crash-after")
    after.begin_transaction()
    for partition in range(PARTITIONS):
        after.produce("crash-mid", value=b"after-%d" % partition, partition=partition)
    after.commit_transaction(30)
    # The holder's transaction times out and is aborted; the commit whose markers were cut short completed.
    committed = read_all(broker.bootstrap, "crash-mid", PARTITIONS, "read_committed", 3 * PARTITIONS, timeout=40)
    assert committed == {p: [b"k-%d" % p, b"c-%d" % p, b"after-%d" % p] for p in range(PARTITIONS)}
    everything = read_all(broker.bootstrap, "crash-mid", PARTITIONS, "read_uncommitted", 6 * PARTITIONS)
    assert everything == {p: [b"%s-%d" % (label, p) for label in (b"x", b"k", b"open", b"a", b"c", b"after")]
                          for p in range(PARTITIONS)}
    commit_thread.join(30)
    abort_thread.join(30)
    broker.stop()
    result = run_verify("--json", "--deep", broker.data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "clean"
    for partition in range(PARTITIONS):
        rebuilt = list((broker.data_dir / f"crash-mid-{partition}").glob("*.txnindex"))
        # Entries of 34 bytes for x, a and the holder's timed-out transaction (a repeated abort marker may add
        # one, as in Kafka).
        size = sum(path.stat().st_size for path in rebuilt)
        assert size % 34 == 0 and size >= 3 * 34
