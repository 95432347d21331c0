"""Fixtures for real-client tests: a portaskd started on a free port with a fresh data directory."""
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def portaskd_binary() -> pathlib.Path:
    for configuration in ("debug", "release"):
        candidate = ROOT / ".build" / configuration / "portaskd"
        if candidate.exists():
            return candidate
    raise RuntimeError("portaskd is not built: run swift build first")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RunningBroker:
    """A portaskd child process; `restart()` keeps its data directory."""

    def __init__(self, data_dir: pathlib.Path, overrides: dict):
        self.data_dir = data_dir
        self.port = free_port()
        self.overrides = overrides
        self.process = None
        self.log_path = data_dir.parent / f"portaskd-{self.port}.log"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self):
        arguments = [str(portaskd_binary()),
                     "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                     "--override", f"log.dirs={self.data_dir}"]
        for name, value in self.overrides.items():
            arguments += ["--override", f"{name}={value}"]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"portaskd exited with {self.process.returncode}: {self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("portaskd did not start listening within 20 s")

    def stop(self, sig=signal.SIGTERM):
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None):
            self.log.close()

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def broker_factory():
    brokers = []
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-test-"))

    def make(**overrides):
        data_dir = directory / f"data-{len(brokers)}"
        data_dir.mkdir()
        broker = RunningBroker(data_dir, {name.replace("_", "."): value for name, value in overrides.items()})
        broker.start()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        broker.stop()
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def broker(broker_factory):
    return broker_factory()
