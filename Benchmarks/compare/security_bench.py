"""TLS and SASL benchmark (see Benchmarks/security_bench.sh).

One portaskd (release build) with three listeners on 127.0.0.1: PLAINTEXT, SSL and SASL_SSL (SCRAM-SHA-512, the
user from `scram.bootstrap.credentials`), with a test CA and an EC P-256 broker certificate made by openssl in the
work directory. In ROUNDS rounds (odd rounds in the order PLAINTEXT, SSL, SASL_SSL, even rounds in the opposite
order), with each client (--client rdkafka, java or both; with both, librdkafka first in odd rounds and the Java
client first in even rounds), over each listener:

- produce: the client produces 1 KiB values to a new topic for SECONDS (timed from the first delivery to the last,
  the drain included; acks=1, no compression); the topic is deleted afterwards;
- consume: the client reads a topic filled beforehand with FILL_MB of 1 KiB values (over PLAINTEXT, by librdkafka)
  from the beginning for SECONDS, seeking back to the beginning at its end;

and the broker's CPU time (utime + stime from /proc/<pid>/stat) during each run, per GB of values, and the
client's (os.times() of the child process, JVM start-up and connection set-up included), per GB. The clients are
librdkafka (`rdkafka_driver produce-for` / `consume-for`, librdkafka defaults otherwise) and Kafka's Java client
(kafka-clients 4.3.0 from scripts/fetch-java-clients.sh, `JavaPerfDriver.java` with the same modes and output,
librdkafka-like producer settings: linger.ms 5, batch.size 1048576, no idempotence). The Java driver times itself
as rdkafka_driver does, so the JVM's start-up is outside the rate; it also reports its CPU time within the timed
interval (`cpu_seconds_timed`), shown per GB as client_timed_cpu_s_per_gb. Without `java` on the PATH the Java
client is skipped with a message. Before each
run the page cache is synced and WARM_GIB GiB of memory is touched and freed (compaction_bench.warm_memory): on a
VM whose balloon takes idle memory back, a produce run writing page cache into reclaimed memory otherwise spends
most of its time in the host's page faults (seen with perf as copy_folio_from_iter_atomic), whatever the listener. Ratios
SSL / PLAINTEXT and SASL_SSL / PLAINTEXT are taken within each round and client; the result is their median per
client.

Connection set-up (after the rounds): WORKERS processes each open connections one after the other for
CONNECT_SECONDS, every connection doing the TLS handshake, ApiVersions v0, SaslHandshake v1 (SCRAM-SHA-512) and
SaslAuthenticate v1 twice (client-first, client-final; the server's signature is checked), then closing. The
client keeps the salted password of the (salt, iterations) the broker sent, as RFC 5802 allows, so the rate is
the broker's and the TLS handshake's, not the client's PBKDF2. For comparison the same is measured for the TLS
handshake plus ApiVersions alone on the SSL listener.
"""
import argparse
import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import pathlib
import secrets
import shutil
import socket
import ssl
import statistics
import struct
import subprocess
import tempfile
import time

from confluent_kafka.admin import AdminClient, NewTopic

from compaction_bench import warm_memory

LISTENERS = ("PLAINTEXT", "SSL", "SASL_SSL")
CLIENTS = ("rdkafka", "java")
ROOT = pathlib.Path(__file__).resolve().parents[2]
JAVA_DRIVER = pathlib.Path(__file__).resolve().parent / "JavaPerfDriver.java"
USER, PASSWORD = "bench", "bench-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def openssl(*arguments, cwd):
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory):
    """A CA (ca.pem) and a broker key and certificate for 127.0.0.1 (broker.pem: key + certificate)."""
    d = str(directory)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Portask Bench CA", cwd=d)
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost", cwd=d)
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "broker.crt", "-days", "2", "-extfile", "san.ext", cwd=d)
    (directory / "broker.pem").write_text((directory / "broker.key").read_text()
                                          + (directory / "broker.crt").read_text())
    return directory / "ca.pem", directory / "broker.pem"


class Broker:
    """portaskd with the three listeners; its output goes to log_path."""

    def __init__(self, binary, data, log_path, ca, keystore):
        self.ports = {name: free_port() for name in LISTENERS}
        overrides = {
            "log.dirs": str(data),
            "listeners": ",".join(f"{name}://127.0.0.1:{port}" for name, port in self.ports.items()),
            "listener.security.protocol.map": ",".join(f"{name}:{name}" for name in LISTENERS),
            "ssl.keystore.location": str(keystore),
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "scram.bootstrap.credentials": f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]",
        }
        arguments = [binary]
        for name, value in overrides.items():
            arguments += ["--override", f"{name}={value}"]
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(arguments, stdout=self.log, stderr=subprocess.STDOUT)
        self.ca = ca
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.ports["SASL_SSL"]), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"portaskd exited ({self.process.returncode}); see {log_path}")
                time.sleep(0.05)
        raise RuntimeError("portaskd did not start")

    def address(self, listener):
        return f"127.0.0.1:{self.ports[listener]}"

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14 and 15)

    def client_properties(self, listener):
        """librdkafka properties of a client of `listener`."""
        properties = {}
        if listener in ("SSL", "SASL_SSL"):
            properties.update({"security.protocol": listener, "ssl.ca.location": str(self.ca)})
        if listener == "SASL_SSL":
            properties.update({"sasl.mechanisms": "SCRAM-SHA-512", "sasl.username": USER,
                               "sasl.password": PASSWORD})
        return properties

    def stop(self):
        self.process.terminate()
        self.process.wait(60)
        self.log.close()


def children_cpu_seconds():
    times = os.times()
    return times.children_user + times.children_system


def java_classpath():
    """The directory of the Java client's jars (scripts/fetch-java-clients.sh), as a class path."""
    completed = subprocess.run([str(ROOT / "scripts" / "fetch-java-clients.sh")], capture_output=True, text=True,
                               timeout=600, check=True)
    return completed.stdout.strip().splitlines()[-1] + "/*"


def driver_command(client, drivers):
    """The command line of a client's driver, before its mode and arguments."""
    if client == "rdkafka":
        return [drivers["rdkafka"]]
    return ["java", "-cp", drivers["java"], str(JAVA_DRIVER)]


def run_driver(client, drivers, broker, listener, arguments, warm_gib=0):
    environment = dict(os.environ)
    environment["RDKAFKA_DRIVER_PROPERTIES"] = "\n".join(
        f"{name}={value}" for name, value in broker.client_properties(listener).items())
    subprocess.run(["sync"], check=True)
    warm_memory(warm_gib)
    cpu_before = broker.cpu_seconds()
    client_cpu_before = children_cpu_seconds()
    completed = subprocess.run([*driver_command(client, drivers), arguments[0], broker.address(listener),
                                *arguments[1:]], capture_output=True, text=True, timeout=900, env=environment)
    client_cpu = children_cpu_seconds() - client_cpu_before
    cpu = broker.cpu_seconds() - cpu_before
    if completed.returncode != 0:
        raise RuntimeError(f"{client} {arguments[0]} over {listener} failed: {completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    gigabytes = result["bytes"] / 1e9
    result["broker_cpu_seconds"] = cpu
    result["broker_cpu_seconds_per_gb"] = cpu / gigabytes if gigabytes else None
    result["client_cpu_seconds"] = client_cpu
    result["client_cpu_seconds_per_gb"] = client_cpu / gigabytes if gigabytes else None
    if "cpu_seconds_timed" in result:
        result["client_timed_cpu_seconds_per_gb"] = result["cpu_seconds_timed"] / gigabytes if gigabytes else None
    return result


def create_topic(admin, name):
    for future in admin.create_topics([NewTopic(name, 1, 1)]).values():
        future.result(30)


def delete_topic(admin, name):
    for future in admin.delete_topics([name]).values():
        future.result(30)


def fill(driver, bootstrap, topic, megabytes):
    count = megabytes * 1_000_000 // 1024
    subprocess.run([driver, "produce", bootstrap, topic, "1024", str(count), "1", "none"],
                   capture_output=True, text=True, timeout=900, check=True)


# -- Raw Kafka requests for the connection set-up rate ------------------------------------------------------------

def request(sock, api_key, version, correlation_id, body):
    header = struct.pack(">hhih", api_key, version, correlation_id, 5) + b"bench"
    sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
    size = struct.unpack(">i", read_exactly(sock, 4))[0]
    response = read_exactly(sock, size)
    if struct.unpack(">i", response[:4])[0] != correlation_id:
        raise RuntimeError("correlation id mismatch")
    return response[4:]


def read_exactly(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return bytes(data)


def kafka_bytes(data):
    return struct.pack(">i", len(data)) + data


def sasl_authenticate(sock, correlation_id, payload):
    """SaslAuthenticate v1; returns the server's bytes or raises with its error."""
    body = request(sock, 36, 1, correlation_id, kafka_bytes(payload))
    error = struct.unpack(">h", body[:2])[0]
    message_length = struct.unpack(">h", body[2:4])[0]
    position = 4 + max(message_length, 0)
    if error:
        raise RuntimeError(f"SaslAuthenticate error {error}: {body[4:position].decode(errors='replace')}")
    length = struct.unpack(">i", body[position:position + 4])[0]
    return body[position + 4:position + 4 + length]


def scram_connection(address, context, salted_cache):
    """One connection: TLS, ApiVersions v0, SaslHandshake v1 SCRAM-SHA-512, the SCRAM exchange, close."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw, server_hostname=host) as sock:
            request(sock, 18, 0, 1, b"")
            mechanism = b"SCRAM-SHA-512"
            handshake = request(sock, 17, 1, 2, struct.pack(">h", len(mechanism)) + mechanism)
            if struct.unpack(">h", handshake[:2])[0]:
                raise RuntimeError("SaslHandshake refused")
            client_nonce = base64.b64encode(secrets.token_bytes(18)).decode()
            first_bare = f"n={USER},r={client_nonce}"
            server_first = sasl_authenticate(sock, 3, ("n,," + first_bare).encode()).decode()
            fields = dict(item.split("=", 1) for item in server_first.split(","))
            if not fields["r"].startswith(client_nonce):
                raise RuntimeError("server nonce does not extend the client's")
            salt, iterations = base64.b64decode(fields["s"]), int(fields["i"])
            salted = salted_cache.get((salt, iterations))
            if salted is None:
                salted = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, iterations)
                salted_cache[(salt, iterations)] = salted
            client_key = hmac.new(salted, b"Client Key", hashlib.sha512).digest()
            stored_key = hashlib.sha512(client_key).digest()
            without_proof = f"c=biws,r={fields['r']}"
            auth_message = f"{first_bare},{server_first},{without_proof}".encode()
            signature = hmac.new(stored_key, auth_message, hashlib.sha512).digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            final = f"{without_proof},p={base64.b64encode(proof).decode()}"
            server_final = sasl_authenticate(sock, 4, final.encode()).decode()
            server_key = hmac.new(salted, b"Server Key", hashlib.sha512).digest()
            expected = base64.b64encode(hmac.new(server_key, auth_message, hashlib.sha512).digest()).decode()
            if server_final != f"v={expected}":
                raise RuntimeError(f"server signature mismatch: {server_final[:80]}")


def tls_connection(address, context, _cache):
    """One connection: TLS, ApiVersions v0, close."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with context.wrap_socket(raw, server_hostname=host) as sock:
            request(sock, 18, 0, 1, b"")


def connect_worker(kind, address, ca, seconds, queue):
    context = ssl.create_default_context(cafile=ca)
    connect = scram_connection if kind == "scram" else tls_connection
    cache = {}
    connect(address, context, cache)  # warm-up, and the salted password
    count, failures = 0, 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            connect(address, context, cache)
            count += 1
        except (OSError, RuntimeError):
            failures += 1
    queue.put((count, failures, time.monotonic() - started))


def connection_rate(kind, broker, listener, workers, seconds):
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=connect_worker,
                                         args=(kind, broker.address(listener), str(broker.ca), seconds, queue))
                 for _ in range(workers)]
    cpu_before = broker.cpu_seconds()
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for process in processes:
        process.join(30)
    cpu = broker.cpu_seconds() - cpu_before
    count = sum(result[0] for result in results)
    elapsed = max(result[2] for result in results)
    return {"connections": count, "failures": sum(result[1] for result in results), "seconds": elapsed,
            "per_second": count / elapsed, "broker_cpu_ms_per_connection": cpu * 1000 / count if count else None}


def measure_round(client, drivers, admin, broker, index, order, args):
    """One round of one client: produce over each listener in `order`, then consume over each."""
    produce, consume = {}, {}
    for listener in order:
        topic = f"produce-{client}-{listener.lower()}-{index}"
        create_topic(admin, topic)
        produce[listener] = run_driver(client, drivers, broker, listener,
                                       ["produce-for", topic, "1024", str(args.seconds), "1", "none"],
                                       args.warm_gib)
        delete_topic(admin, topic)
        time.sleep(1)
    for listener in order:
        consume[listener] = run_driver(client, drivers, broker, listener,
                                       ["consume-for", "consume", str(args.seconds)], args.warm_gib)
    result = {"client": client, "round": index + 1, "order": order, "produce": produce, "consume": consume}
    for kind, runs in (("produce", produce), ("consume", consume)):
        for listener in ("SSL", "SASL_SSL"):
            result[f"{kind}_{listener.lower()}_ratio"] = (
                runs[listener]["mb_per_sec"] / runs["PLAINTEXT"]["mb_per_sec"])
    return result


# What each run reports: (its field, the key in the printed lines and the summary, digits printed per round).
MEASURES = (("mb_per_sec", "mb_per_sec", 1), ("broker_cpu_seconds_per_gb", "cpu_s_per_gb", 3),
            ("client_cpu_seconds_per_gb", "client_cpu_s_per_gb", 3),
            ("client_timed_cpu_seconds_per_gb", "client_timed_cpu_s_per_gb", 3))


def round_line(client, result):
    """The printed summary of one round of one client."""
    line = {"client": client, "round": result["round"], "order": result["order"]}
    for measure, key, digits in MEASURES:
        for kind in ("produce", "consume"):
            for listener in LISTENERS:
                value = result[kind][listener].get(measure)
                if value is not None:
                    line[f"{kind}_{listener}_{key}"] = round(value, digits)
    line.update({key: round(value, 3) for key, value in result.items() if key.endswith("ratio")})
    return line


def client_summary(rounds):
    """Medians over the rounds of one client."""
    summary = {}
    for kind in ("produce", "consume"):
        for listener in LISTENERS:
            for measure, key, _ in (*MEASURES, ("seconds", "run_seconds", 3)):
                values = [result[kind][listener].get(measure) for result in rounds]
                if all(value is not None for value in values):
                    summary[f"median_{kind}_{listener}_{key}"] = statistics.median(values)
        for listener in ("SSL", "SASL_SSL"):
            summary[f"median_{kind}_{listener.lower()}_ratio"] = statistics.median(
                result[f"{kind}_{listener.lower()}_ratio"] for result in rounds)
    return summary


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", required=True)
    parser.add_argument("--portaskd", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6, help="length of each produce and consume run")
    parser.add_argument("--fill-mb", type=int, default=2048, help="MB of 1 KiB values in the consumed topic")
    parser.add_argument("--connect-seconds", type=float, default=10)
    parser.add_argument("--warm-gib", type=float, default=8,
                        help="GiB of memory touched and freed before each run (0: none), as compaction.sh does")
    parser.add_argument("--workers", type=int, default=2, help="processes opening connections")
    parser.add_argument("--work", help="directory for the data (default: a new temporary directory)")
    parser.add_argument("--client", choices=("rdkafka", "java", "both"), default="both",
                        help="the client library measured (both: librdkafka and Kafka's Java client)")
    args = parser.parse_args()
    clients = list(CLIENTS) if args.client == "both" else [args.client]
    drivers = {"rdkafka": args.driver}
    if "java" in clients:
        if shutil.which("java") is None:
            print("security_bench: `java` is not installed: the Java client is skipped", flush=True)
            clients.remove("java")
        else:
            drivers["java"] = java_classpath()
    if not clients:
        raise SystemExit("security_bench: no client to measure")
    work = pathlib.Path(tempfile.mkdtemp(prefix="portask-security-bench-", dir=args.work))
    broker = None
    try:
        ca, keystore = make_certificates(work)
        data = work / "data"
        data.mkdir()
        broker = Broker(args.portaskd, data, work / "portaskd.log", ca, keystore)
        admin = AdminClient({"bootstrap.servers": broker.address("PLAINTEXT")})
        create_topic(admin, "consume")
        fill(args.driver, broker.address("PLAINTEXT"), "consume", args.fill_mb)
        rounds = {client: [] for client in clients}
        for index in range(args.rounds):
            order = LISTENERS if index % 2 == 0 else tuple(reversed(LISTENERS))
            for client in (clients if index % 2 == 0 else list(reversed(clients))):
                result = measure_round(client, drivers, admin, broker, index, order, args)
                rounds[client].append(result)
                print(json.dumps(round_line(client, result)), flush=True)
        scram = connection_rate("scram", broker, "SASL_SSL", args.workers, args.connect_seconds)
        print(json.dumps({"scram_connections": scram}), flush=True)
        tls = connection_rate("tls", broker, "SSL", args.workers, args.connect_seconds)
        print(json.dumps({"tls_connections": tls}), flush=True)
        summary = {"rounds": args.rounds, "seconds": args.seconds, "clients": clients}
        for client in clients:
            summary[client] = client_summary(rounds[client])
        summary["scram_connections_per_second"] = scram["per_second"]
        summary["scram_broker_cpu_ms_per_connection"] = scram["broker_cpu_ms_per_connection"]
        summary["tls_connections_per_second"] = tls["per_second"]
        summary["tls_broker_cpu_ms_per_connection"] = tls["broker_cpu_ms_per_connection"]
        print(json.dumps(summary, indent=2), flush=True)
    finally:
        if broker:
            broker.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
