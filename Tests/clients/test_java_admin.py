"""Kafka's own Java Admin client (kafka-clients 4.3.0) against the 4.2 protocol: describeTopics through
DescribeTopicPartitions, listOffsets with maxTimestamp/earliest/latest, client quotas and electLeaders.
Skipped only when Java is not installed."""
import shutil
import subprocess

import pytest

from conftest import ROOT
from test_java_transactions import java_client_classpath


@pytest.mark.skipif(shutil.which("java") is None, reason="Java is not installed")
def test_java_admin_describe_topics_offsets_quotas_and_elections(broker):
    result = subprocess.run(
        ["java", "-cp", java_client_classpath(), str(ROOT / "Tests" / "java" / "AdminClient42.java"),
         broker.bootstrap],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert seen["describedPartitions"] == "3"
    assert seen["describedLeader"] == "0"
    assert seen["describedTopicId"] == "true"
    assert seen["maxTimestampOffset"] == "1"
    assert seen["maxTimestamp"] == "5000"
    assert seen["earliest"] == "0"
    assert seen["latest"] == "4"
    assert seen["quotas"] == "{producer_byte_rate=1048576.0}"
    assert seen["election"] == "ElectionNotNeededException"
    assert seen["missingElection"] == "UnknownTopicOrPartitionException"
