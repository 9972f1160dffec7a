"""Two sites joined only through a NATS cluster: the virtual LAN of a room on a backbone.

Site A and site B are two `VirtualLan`s: two switches, two /24s, nothing between them. The
"server" PC (site A's PC 1) has a second adapter on site B (`VirtualLan.connect`) and runs
the three nodes of a `NatsCluster`, members' connections on all its interfaces and the
routes between the nodes on its own loopback. It forwards no packet (`ip_forward` is 0 in
a new namespace, and `build` checks it), so a PC of one site cannot reach any PC of the
other: only the NATS servers, which speak to both, carry anything across. `no_route`
proves it from a PC, `reachable` is the same probe's positive control.

The NATS servers run inside the namespace, like every process here without
LANCHAT_LOOPBACK_ONLY (tests/lan/virtual_lan.py); the cluster's data directory is the
`NatsCluster`'s own temporary folder, removed at teardown.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bench.nats_cluster import NatsCluster
from tests.lan.virtual_lan import Pc, VirtualLan

#: The server PC's address on site B (site A's PC 1 is also 10.77.<B>.100).
SERVER_ON_B = 100
#: Bound on the cluster electing its JetStream leader after the nodes start.
CLUSTER_READY_TIMEOUT = 30.0

_PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("connected")
except OSError as exc:
    print("unreachable:", type(exc).__name__, exc)
"""


@dataclass
class TwoSites:
    a: VirtualLan
    b: VirtualLan
    cluster: NatsCluster

    @property
    def server(self) -> Pc:
        return self.a[1]

    def build(self) -> TwoSites:
        self.b.connect(self.server, SERVER_ON_B)
        forwarding = self.server.check_output(["sysctl", "-n", "net.ipv4.ip_forward"]).strip()
        assert forwarding == "0", "the server PC must not route between the sites"
        for index, name in enumerate(self.cluster.names):
            node = self.server.run(self.cluster.node_command(index, "0.0.0.0"), name=f"nats-{name}")
            node.expect("Server is ready", timeout=CLUSTER_READY_TIMEOUT, stream="stderr")
        return self

    def servers_for(self, site: VirtualLan) -> str:
        """The cluster's addresses as a PC of `site` reaches them (for `--backbone`)."""
        address = self.server.ipv4 if site is self.a else self.server.extra_interfaces["eth1"]
        return ",".join(f"nats://{address}:{port}" for port in self.cluster.client_ports)

    def probe(self, pc: Pc, address: str, port: int) -> str:
        return pc.check_output([sys.executable, "-c", _PROBE, address, str(port)]).strip()

    def no_route(self, pc: Pc, address: str, port: int) -> None:
        answer = self.probe(pc, address, port)
        assert answer.startswith("unreachable"), f"{pc.name} reached {address}:{port} ({answer})"

    def reachable(self, pc: Pc, address: str, port: int) -> None:
        answer = self.probe(pc, address, port)
        assert answer == "connected", f"{pc.name} cannot reach {address}:{port} ({answer})"
