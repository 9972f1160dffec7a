"""A real 3-node NATS JetStream cluster on loopback ports, for the backbone bench and tests.

Each node is its own `nats-server -js` process with its own data directory; `stop` kills
every node and removes the directories. A node can be killed (SIGKILL) and started again
on the same ports and data.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

NATS_SERVER = shutil.which("nats-server") or (
    "/usr/sbin/nats-server" if Path("/usr/sbin/nats-server").exists() else None
)


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class NatsCluster:
    """Three nodes named a, b, c (see the module docstring)."""

    def __init__(self, nodes: int = 3) -> None:
        assert NATS_SERVER is not None
        self.root = Path(tempfile.mkdtemp(prefix="lanchat-nats-"))
        ports = _free_ports(2 * nodes)
        self.client_ports, self.route_ports = ports[:nodes], ports[nodes:]
        self.names = "abc"[:nodes]
        self.procs: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(f"nats://127.0.0.1:{port}" for port in self.client_ports)

    def start(self) -> NatsCluster:
        for index in range(len(self.client_ports)):
            self.start_node(index)
        for port in self.client_ports:
            self._wait_listening(port)
        return self

    def start_node(self, index: int) -> None:
        log = open(self.root / f"{self.names[index]}.log", "ab")  # noqa: SIM115 - owned by the process
        self.procs[index] = subprocess.Popen(self.node_command(index), stdout=log, stderr=log)
        log.close()

    def node_command(self, index: int, listen: str = "127.0.0.1") -> list[str]:
        """The command line of node `index`: members' connections on `listen` (all interfaces:
        "0.0.0.0"), the routes between the nodes on loopback. The virtual LAN runs these
        inside a namespace (tests/lan/two_sites.py)."""
        name = self.names[index]
        routes = ",".join(f"nats://127.0.0.1:{port}" for i, port in enumerate(self.route_ports) if i != index)
        store = self.root / name
        store.mkdir(exist_ok=True)
        return [
            str(NATS_SERVER),
            "-js",
            "-a",
            listen,
            "-p",
            str(self.client_ports[index]),
            "-n",
            f"node-{name}",
            "--cluster_name",
            "lanchat",
            "--no_advertise",
            "--cluster",
            f"nats://127.0.0.1:{self.route_ports[index]}",
            "--routes",
            routes,
            "--store_dir",
            str(store),
        ]

    def kill_node(self, index: int) -> None:
        proc = self.procs.pop(index)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def _wait_listening(self, port: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self, *, remove: bool = True) -> None:
        """Stop every node; `remove`: delete the data too (else `start` brings it all back)."""
        for index in list(self.procs):
            proc = self.procs.pop(index)
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
