"""Local Redis topologies for the test matrix, from the installed `redis-server`:
a 3-master/3-replica Cluster and a Sentinel group (1 master, 1 replica, 3 sentinels),
each process on free 127.0.0.1 ports in a temporary directory.

Readiness is an event, not a poll: every server runs `--supervised systemd` with
NOTIFY_SOCKET pointing at a datagram socket of ours, and says READY=1 when it accepts
connections (a replica: once it has synced with its master). `redis-cli --cluster create`
waits for the cluster to join before it returns.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

READY_TIMEOUT_S = 30.0
SERVICE = "flowwatch"


def redis_binaries() -> tuple[str, str]:
    """redis-server and redis-cli; missing ones fail in CI and skip elsewhere."""
    server, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if server is None or cli is None:
        message = "redis-server/redis-cli not installed (Debian package redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return server, cli


def free_port() -> int:
    """A free port whose cluster-bus twin (port + 10000) is free too."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port + 10000 > 65535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port


@dataclass
class Node:
    """One redis-server (or sentinel) process."""

    directory: Path
    args: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        server, _ = redis_binaries()
        self.directory.mkdir(parents=True, exist_ok=True)
        notify_path = self.directory / "notify.sock"
        notify_path.unlink(missing_ok=True)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
            notify.bind(str(notify_path))
            notify.settimeout(READY_TIMEOUT_S)
            self.process = subprocess.Popen(  # noqa: S603 - our own binary and arguments
                [server, *self.args, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--dir", str(self.directory), "--logfile", str(self.directory / "log"),
                 "--supervised", "systemd", "--daemonize", "no"],
                env={**os.environ, "NOTIFY_SOCKET": str(notify_path)},
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while b"READY=1" not in notify.recv(4096):
                    pass
            except TimeoutError:
                self.kill()
                pytest.fail(f"redis-server did not start on port {self.port}: {self.log()}")

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace")[-1500:] if path.exists() else "(no log)"

    def kill(self) -> None:
        """SIGKILL: a crash. The process is reaped before this returns."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


DATA_ARGS = ["--save", "", "--appendonly", "no"]


@dataclass
class Cluster:
    nodes: list[Node]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(n.address for n in self.nodes)

    def stop(self) -> None:
        for node in self.nodes:
            node.kill()


@contextmanager
def running_cluster(directory: Path, masters: int = 3, replicas: int = 1) -> Iterator[Cluster]:
    """A Cluster of `masters` masters with `replicas` replicas each; a killed master's
    replica takes over after cluster-node-timeout (1 s)."""
    _, cli = redis_binaries()
    nodes: list[Node] = []
    try:
        for i in range(masters * (1 + replicas)):
            node = Node(directory / f"node{i}", [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "1000", "--cluster-replica-validity-factor", "0",
                *DATA_ARGS])
            node.args += ["--cluster-port", str(node.port + 10000)]
            node.start()
            nodes.append(node)
        created = subprocess.run(  # noqa: S603 - our own binary and arguments
            [cli, "--cluster", "create", *(n.address for n in nodes), "--cluster-replicas",
             str(replicas), "--cluster-yes"], capture_output=True, timeout=60, check=False)
        if created.returncode != 0:
            pytest.fail(f"redis-cli --cluster create failed: {created.stdout[-1500:]!r}")
        for node in nodes:
            wait_cluster_ok(cli, node)
        yield Cluster(nodes)
    finally:
        for node in nodes:
            node.kill()


def wait_cluster_ok(cli: str, node: Node) -> None:
    """Until `node` says cluster_state:ok (its view of the new cluster has converged): read
    `redis-cli -r N -i 0.05 cluster info`, which repeats the question itself."""
    repeats = int(READY_TIMEOUT_S / 0.05)
    with subprocess.Popen(  # noqa: S603 - our own binary and arguments
            [cli, "-p", str(node.port), "-r", str(repeats), "-i", "0.05", "cluster", "info"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as watch:
        assert watch.stdout is not None
        for line in watch.stdout:
            if line.strip() == "cluster_state:ok":
                watch.kill()
                return
    pytest.fail(f"cluster node {node.address} never reached cluster_state:ok: {node.log()}")


@dataclass
class SentinelGroup:
    master: Node
    replica: Node
    sentinels: list[Node]

    @property
    def url(self) -> str:
        return ("redis+sentinel://" + ",".join(s.address for s in self.sentinels)
                + f"/{SERVICE}")


@contextmanager
def running_sentinel_group(directory: Path) -> Iterator[SentinelGroup]:
    """1 master, 1 replica and 3 sentinels (quorum 2); a master down for 1 s is failed
    over to the replica."""
    started: list[Node] = []
    try:
        master = Node(directory / "master", list(DATA_ARGS))
        master.start()
        started.append(master)
        replica = Node(directory / "replica", [*DATA_ARGS, "--replicaof", "127.0.0.1",
                                               str(master.port)])
        replica.start()  # READY=1 once synced with the master
        started.append(replica)
        # Each sentinel is told the others' ids up front, so a quorum exists from the first
        # moment instead of after their hello messages (about 2 s).
        ports, ids = [free_port() for _ in range(3)], [f"{i + 1:040x}" for i in range(3)]
        sentinels = []
        for i in range(3):
            conf = directory / f"sentinel{i}" / "sentinel.conf"
            conf.parent.mkdir(parents=True, exist_ok=True)
            known = "".join(f"sentinel known-sentinel {SERVICE} 127.0.0.1 {ports[j]} {ids[j]}\n"
                            for j in range(3) if j != i)
            conf.write_text(
                f"sentinel myid {ids[i]}\n"
                f"sentinel monitor {SERVICE} 127.0.0.1 {master.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 2000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n"
                f"sentinel known-replica {SERVICE} 127.0.0.1 {replica.port}\n{known}")
            sentinel = Node(conf.parent, [str(conf), "--sentinel"], port=ports[i])
            sentinel.start()
            started.append(sentinel)
            sentinels.append(sentinel)
        yield SentinelGroup(master, replica, sentinels)
    finally:
        for node in started:
            node.kill()
