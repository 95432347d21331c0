"""Kafka's own Java client (kafka-clients 4.3.0, from scripts/fetch-java-clients.sh) against portaskd:
initTransactions, sendOffsetsToTransaction with a group member's metadata (and a stale generation refused),
commit and abort, Admin.listTransactions and describeTransactions, and a read_committed consumer. Skipped only when Java is not installed."""
import shutil
import subprocess

import pytest

from conftest import ROOT
from test_transactions import TXN_BROKER, create_topic


def java_client_classpath():
    result = subprocess.run([str(ROOT / "scripts" / "fetch-java-clients.sh")], capture_output=True, text=True,
                            timeout=300)
    if result.returncode != 0:
        pytest.fail(f"cannot fetch Kafka's Java client: {result.stderr}")
    directory = result.stdout.strip()
    return f"{directory}/kafka-clients-4.3.0.jar:{directory}/slf4j-api-2.0.18.jar"


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed")
def test_java_transactional_producer_and_admin(broker_factory):
    broker = broker_factory(**TXN_BROKER)
    create_topic(broker.bootstrap, "java-output", 1)
    create_topic(broker.bootstrap, "java-input", 1)
    result = subprocess.run(
        ["java", "-cp", java_client_classpath(), str(ROOT / "Tests" / "java" / "TransactionalClient.java"),
         broker.bootstrap, "java-output"],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert int(seen["memberGeneration"]) >= 1
    assert seen["staleGeneration"] == "CommitFailedException"
    assert seen["listed"] == "java-app,Ongoing"
    assert seen["describedState"] == "Ongoing"
    assert seen["describedPartitions"] == "[java-output-0]"
    assert seen["describedTimeoutMs"] == "60000"
    assert seen["describedStarted"] == "true"
    assert seen["afterCommitState"] == "CompleteCommit"
    assert seen["groupOffset"] == "5"
    assert seen["readCommitted"] == ",".join([f"committed-{index}" for index in range(5)] + ["open"])
