"""Smoke runs of the benchmark tools against a fresh portaskd: portask-bench (produce and consume) and
Benchmarks/compare.sh with the matrix scaled down. They check that the tools work and report sane figures,
not how fast anything is."""
import json
import subprocess
import sys

import pytest

from conftest import ROOT


def bench_binary():
    for configuration in ("debug", "release"):
        candidate = ROOT / ".build" / configuration / "portask-bench"
        if candidate.exists():
            return candidate
    raise RuntimeError("portask-bench is not built: run swift build first")


def bench(*arguments):
    completed = subprocess.run([str(bench_binary()), *arguments, "--json"], capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_portask_bench_produces_and_consumes(broker):
    common = ["--bootstrap", broker.bootstrap, "--topic", "smoke"]
    first = bench("produce", *common, "--size", "100", "--count", "3000", "--acks", "1", "--batch-size", "16384")
    assert first["messages"] == 3000
    assert first["bytes"] == 300_000
    assert first["mb_per_sec"] > 0 and first["msgs_per_sec"] > 0
    assert first["requests"] >= 3000 * 100 // 16384
    assert 0 < first["latency_p50_ms"] <= first["latency_p99_ms"] <= first["latency_max_ms"]

    paced = bench("produce", *common, "--size", "1024", "--count", "400", "--acks", "all", "--rate", "2000",
                  "--linger-ms", "20", "--compression", "zstd", "--in-flight", "2")
    assert paced["messages"] == 400
    assert paced["seconds"] >= 0.15  # 400 messages at 2,000/s take about 0.2 s
    assert paced["wire_bytes"] < paced["bytes"]  # compressed

    consumed = bench("consume", *common, "--from", "earliest", "--check-crc")
    assert consumed["messages"] == 3400
    assert consumed["mb_per_sec"] > 0

    from_offset = bench("consume", *common, "--from", "2999", "--count", "401")
    assert from_offset["messages"] == 401


def test_compare_sh_runs_the_scaled_down_matrix(broker, tmp_path):
    output = tmp_path / "compare.json"
    completed = subprocess.run(
        [str(ROOT / "Benchmarks" / "compare.sh"), broker.bootstrap, "--scale", "0.001", "--latency-seconds", "0.5",
         "--json", str(output)],
        capture_output=True, text=True, timeout=120, env={"PYTHON": sys.executable, "PATH": "/usr/bin:/bin"})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "produce 1 KiB x 500k acks=all" in completed.stdout
    report = json.loads(output.read_text())
    assert report["brokers"][0]["pid"] == broker.process.pid
    results = report["results"][broker.bootstrap]
    assert len(results) == len(report["cases"]) == 12
    for case in report["cases"]:
        result = results[case["name"]]
        assert result["cpu_s"] is not None and result["cpu_s"] >= 0
        assert result["peak_rss_mib"] > 0
        if case["kind"] == "latency":
            assert result["messages"] == 1000 and result["failed"] == 0
            assert 0 < result["p50_ms"] <= result["p99_ms"]
        else:
            assert result["messages"] == case["count"]
            assert result["bytes"] == case["count"] * case["size"]
            assert result["mb_per_sec"] > 0
