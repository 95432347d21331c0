"""A local Portask cluster for client tests: 3 etcd members and 3 portaskd brokers on loopback ports.

Each etcd member and each broker has its own data directory under one temporary directory; the brokers keep
their metadata under a unique etcd prefix. The processes live for a test module (`cluster_processes`); the
`cluster` fixture hands them to one test, first restarting whatever an earlier test left stopped and waiting
until every broker lists all three brokers in its Metadata. Brokers are addressed by node id (1..3), etcd
members by index (0..2). When a test fails, the tails of every log are printed; a broker that exits without
being stopped by the test fails the test.
"""
import json
import os
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request
import uuid

import pytest

from conftest import free_port, portaskd_binary
from kafka_wire import frame, read_response

NODE_IDS = (1, 2, 3)
ETCD_MEMBERS = 3
SESSION_TIMEOUT_MS = 3000
HEARTBEAT_INTERVAL_MS = 500
OFFSETS_TOPIC_PARTITIONS = 6
LOG_TAIL_LINES = 80


def etcd_binary():
    """The etcd server binary (Debian's etcd-server), or None."""
    found = shutil.which("etcd")
    if found:
        return found
    return "/usr/bin/etcd" if os.access("/usr/bin/etcd", os.X_OK) else None


def random_id() -> str:
    """A 22-character base64url id, the form of Kafka's cluster and directory ids."""
    import base64
    return base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")


def log_tail(path: pathlib.Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as error:
        return f"(no log: {error})"


class EtcdMember:
    """One etcd member process; its data directory survives `kill()` and `start()`."""

    def __init__(self, index: int, directory: pathlib.Path, token: str):
        self.index = index
        self.name = f"etcd{index}"
        self.data_dir = directory / f"{self.name}-data"
        self.log_path = directory / f"{self.name}.log"
        self.client_port = free_port()
        self.peer_port = free_port()
        self.token = token
        self.initial_cluster = ""
        self.process = None
        self.log = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self):
        arguments = [etcd_binary(), "--name", self.name, "--data-dir", str(self.data_dir),
                     "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                     "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                     "--initial-cluster", self.initial_cluster, "--initial-cluster-state", "new",
                     "--initial-cluster-token", self.token, "--logger", "zap", "--log-outputs", "stderr"]
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)

    def healthy(self) -> bool:
        """True when this member answers /health with a leader and quorum (a linearizable read succeeds)."""
        try:
            with urllib.request.urlopen(self.client_url + "/health", timeout=1) as answer:
                return json.loads(answer.read()).get("health") == "true"
        except (OSError, ValueError):
            return False

    def wait_healthy(self, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{log_tail(self.log_path)}")
            if self.healthy():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not healthy within {timeout} s:\n{log_tail(self.log_path)}")

    def stop(self, sig=signal.SIGTERM):
        if self.running:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()
            self.log = None


class ClusterBroker:
    """One portaskd of the cluster; its port and data directory survive `stop()` and `start()`."""

    def __init__(self, node_id: int, directory: pathlib.Path, overrides: dict):
        self.node_id = node_id
        self.port = free_port()
        self.data_dir = directory / f"broker{node_id}-data"
        self.log_path = directory / f"broker{node_id}.log"
        self.overrides = overrides
        self.process = None
        self.log = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def format(self, cluster_id: str):
        """Writes meta.properties as Kafka's `kafka-storage format` does: every broker of a cluster carries
        the same cluster id."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        meta = self.data_dir / "meta.properties"
        if not meta.exists():
            meta.write_text(f"#\nversion=1\ncluster.id={cluster_id}\nnode.id={self.node_id}\n"
                            f"directory.id={random_id()}\n")

    def start(self, timeout: float = 30):
        """Starts portaskd and waits until it accepts connections (not until it has registered)."""
        arguments = [str(portaskd_binary()), "--override", f"node.id={self.node_id}",
                     "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                     "--override", f"log.dirs={self.data_dir}"]
        for name, value in self.overrides.items():
            arguments += ["--override", f"{name}={value}"]
        self.log = open(self.log_path, "ab")
        self.log.write(f"==== start {time.strftime('%H:%M:%S')} ====\n".encode())
        self.log.flush()
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"broker {self.node_id} exited with {self.process.returncode}:\n"
                                   f"{log_tail(self.log_path)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"broker {self.node_id} did not listen within {timeout} s:\n{log_tail(self.log_path)}")

    def stop(self, sig=signal.SIGTERM):
        if self.running:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.log:
            self.log.close()
            self.log = None


def metadata_brokers(port: int, timeout: float = 2) -> tuple:
    """Asks the broker on `port` for Metadata v1 without topics: ({node id: (host, port)}, controller id)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(frame(3, 1, 7, struct.pack(">i", 0), client_id=b"cluster-harness"))
        answer = read_response(sock)
    at = 4  # correlation id
    count = struct.unpack_from(">i", answer, at)[0]
    at += 4
    brokers = {}
    for _ in range(count):
        node_id, host_length = struct.unpack_from(">ih", answer, at)
        at += 6
        host = answer[at:at + host_length].decode()
        at += host_length
        broker_port, rack_length = struct.unpack_from(">ih", answer, at)
        at += 6 + max(rack_length, 0)
        brokers[node_id] = (host, broker_port)
    controller = struct.unpack_from(">i", answer, at)[0]
    return brokers, controller


class Cluster:
    """3 etcd members and 3 brokers. Not thread-safe: one test drives it at a time."""

    def __init__(self, directory: pathlib.Path):
        self.directory = directory
        self.prefix = f"/portask-test-{uuid.uuid4().hex[:12]}/"
        self.cluster_id = random_id()
        token = f"portask-test-{uuid.uuid4().hex[:8]}"
        self.etcd = [EtcdMember(index, directory, token) for index in range(ETCD_MEMBERS)]
        initial_cluster = ",".join(f"{member.name}={member.peer_url}" for member in self.etcd)
        for member in self.etcd:
            member.initial_cluster = initial_cluster
        overrides = {
            "metadata.etcd.endpoints": ",".join(member.client_url for member in self.etcd),
            "metadata.etcd.prefix": self.prefix,
            "broker.session.timeout.ms": SESSION_TIMEOUT_MS,
            "broker.heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
            "offsets.topic.num.partitions": OFFSETS_TOPIC_PARTITIONS,
            "group.initial.rebalance.delay.ms": 0,
        }
        self.brokers = {node_id: ClusterBroker(node_id, directory, overrides) for node_id in NODE_IDS}
        # Brokers and members a test stopped on purpose; any other one that is not running has died.
        self.stopped_brokers = set()
        self.stopped_etcd = set()

    @property
    def bootstrap(self) -> str:
        """Every broker's address, as clients take bootstrap.servers."""
        return ",".join(broker.bootstrap for broker in self.brokers.values())

    def broker(self, node_id: int) -> ClusterBroker:
        return self.brokers[node_id]

    def start(self):
        for member in self.etcd:
            member.start()
        for member in self.etcd:
            member.wait_healthy()
        for broker in self.brokers.values():
            broker.format(self.cluster_id)
            broker.start()
        self.wait_until_ready()

    def kill_broker(self, node_id: int, sig=signal.SIGKILL):
        """Stops broker `node_id` with `sig` (SIGKILL: no chance to deregister; SIGTERM: a clean shutdown)."""
        self.stopped_brokers.add(node_id)
        self.brokers[node_id].stop(sig)

    def start_broker(self, node_id: int):
        """Starts broker `node_id` again on its port and data directory; returns once it listens."""
        self.brokers[node_id].start()
        self.stopped_brokers.discard(node_id)

    def restart_broker(self, node_id: int, sig=signal.SIGTERM):
        """Stops and starts broker `node_id`; with every member up, returns once all brokers list it again."""
        self.kill_broker(node_id, sig)
        self.start_broker(node_id)
        if not self.stopped_brokers and not self.stopped_etcd:
            self.wait_until_ready()

    def kill_etcd(self, index: int, sig=signal.SIGKILL):
        self.stopped_etcd.add(index)
        self.etcd[index].stop(sig)

    def start_etcd(self, index: int, wait: bool = True):
        """Starts etcd member `index` again on its data directory; with `wait`, until it serves with quorum."""
        self.etcd[index].start()
        self.stopped_etcd.discard(index)
        if wait:
            self.etcd[index].wait_healthy()

    def registered(self, node_id: int) -> set:
        """The node ids broker `node_id` lists in its Metadata (empty when it does not answer)."""
        try:
            return set(metadata_brokers(self.brokers[node_id].port)[0])
        except (OSError, struct.error, IndexError):
            return set()

    def wait_until_ready(self, timeout: float = 30):
        """Waits until every broker lists all three brokers in its Metadata."""
        deadline = time.monotonic() + timeout
        expected = set(NODE_IDS)
        seen = {}
        while time.monotonic() < deadline:
            self.check_alive()
            seen = {node_id: self.registered(node_id) for node_id in NODE_IDS}
            if all(listed == expected for listed in seen.values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"brokers did not all list brokers {sorted(expected)} within {timeout} s; "
                           f"they list {({k: sorted(v) for k, v in seen.items()})}\n{self.logs()}")

    def check_alive(self):
        """Fails when a broker or etcd member exited although no test stopped it."""
        for node_id, broker in self.brokers.items():
            if node_id not in self.stopped_brokers and broker.process is not None and not broker.running:
                raise RuntimeError(f"broker {node_id} exited unexpectedly with {broker.process.returncode}:\n"
                                   f"{log_tail(broker.log_path)}")
        for member in self.etcd:
            if member.index not in self.stopped_etcd and member.process is not None and not member.running:
                raise RuntimeError(f"{member.name} exited unexpectedly with {member.process.returncode}:\n"
                                   f"{log_tail(member.log_path)}")

    def restore(self):
        """Restarts every member and broker that is not running (stopped by a test, or dead: the test it died
        in has failed), then waits until the cluster is ready."""
        for member in self.etcd:
            if not member.running:
                member.stop()
                member.start()
        self.stopped_etcd.clear()
        for member in self.etcd:
            member.wait_healthy()
        for broker in self.brokers.values():
            if not broker.running:
                broker.stop()
                broker.start()
        self.stopped_brokers.clear()
        self.wait_until_ready()

    def logs(self) -> str:
        parts = []
        for broker in self.brokers.values():
            parts.append(f"---- broker {broker.node_id} ({broker.bootstrap}) {broker.log_path} ----\n"
                         f"{log_tail(broker.log_path)}")
        for member in self.etcd:
            parts.append(f"---- {member.name} ({member.client_url}) {member.log_path} ----\n"
                         f"{log_tail(member.log_path, 8)}")
        return "\n".join(parts)

    def stop(self):
        for broker in self.brokers.values():
            broker.stop()
        for member in self.etcd:
            member.stop()


@pytest.fixture(scope="module")
def cluster_processes():
    """The module's cluster processes; skipped only when etcd is not installed."""
    if etcd_binary() is None:
        pytest.skip("etcd is not installed (Debian package etcd-server: scripts/install-deps.sh installs it)")
    directory = pathlib.Path(tempfile.mkdtemp(prefix="portask-cluster-"))
    cluster = Cluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        if os.environ.get("PORTASK_KEEP_CLUSTER_LOGS"):
            print(f"cluster logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def cluster(cluster_processes, request):
    """The module's cluster with every process running and every broker registered; prints the logs'
    tails when the test fails, and fails the test when a process it did not stop has died."""
    cluster_processes.restore()
    failures_before = request.session.testsfailed
    yield cluster_processes
    try:
        cluster_processes.check_alive()
    finally:
        if request.session.testsfailed > failures_before:
            capture = request.config.pluginmanager.getplugin("capturemanager")
            with capture.global_and_fixture_disabled():
                print(f"\n==== cluster logs after {request.node.name} ====\n{cluster_processes.logs()}")
