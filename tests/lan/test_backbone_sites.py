"""Two subnets, one room: members on site A and site B chat through the NATS backbone only.

Site A: the server PC (three NATS nodes), PC 2 hosts with `main.py host --backbone`, PC 3
is ann. Site B: PC 1 hosts the same room on the same cluster, PC 2 is bob. There is no
route between the sites (proved below, with the same probe reaching the PC's own host);
each LanChat host reaches the cluster on its own subnet (tests/lan/two_sites.py).
"""

from __future__ import annotations

import re

import pytest

from net.protocol.limits import DEFAULT_PORT
from tests.lan import cli
from tests.lan.two_sites import CLUSTER_READY_TIMEOUT, TwoSites
from tests.lan.virtual_lan import LanProcess, Pc, VirtualLan

pytestmark = pytest.mark.lan

ROOM = "两个网段 one room"


def _backbone_host(sites: TwoSites, site: VirtualLan, pc: Pc, name: str) -> LanProcess:
    host = pc.lanchat(
        "host", "--name", ROOM, "--backbone", sites.servers_for(site), "--backbone-name", name,
        "--advertise", pc.ipv4, name=f"host-{name}",
    )  # fmt: skip
    host.expect(re.compile(r"listening on", re.IGNORECASE), timeout=CLUSTER_READY_TIMEOUT)
    return host


def test_members_on_two_subnets_chat_in_one_room_only_through_the_backbone(two_sites: TwoSites) -> None:
    a, b = two_sites.a, two_sites.b
    host_a = _backbone_host(two_sites, a, a[2], "site-a")
    host_b = _backbone_host(two_sites, b, b[1], "site-b")
    two_sites.reachable(a[3], a[2].ipv4, DEFAULT_PORT)
    two_sites.reachable(b[2], b[1].ipv4, DEFAULT_PORT)
    for pc, other in ((a[3], b[1]), (a[2], b[1]), (b[2], a[2]), (b[1], a[2])):
        two_sites.no_route(pc, other.ipv4, DEFAULT_PORT)
    two_sites.no_route(a[3], two_sites.server.extra_interfaces["eth1"], two_sites.cluster.client_ports[0])

    ann = cli.join(a[3], a[2].ipv4, "ann", "tcp")
    bob = cli.join(b[2], b[1].ipv4, "bob", "tcp")
    ann.expect(cli.joined_line("bob"), timeout=cli.DELIVERY_TIMEOUT)
    ann.send("hello from site A ✓")
    bob.expect(cli.chat_line("ann", "hello from site A ✓"))
    bob.send("来自 B 网段的回复")
    ann.expect(cli.chat_line("bob", "来自 B 网段的回复"))
    ann.send("/msg bob only for bob")
    bob.expect(cli.chat_line("ann", "only for bob", private=True))
    mark = bob.mark()
    bob.send("/who")
    bob.expect(re.compile(r"^Online: .*\bann\b"), after=mark)
    for host in (host_a, host_b):
        assert cli.stop(host) == 0, host.transcript()
    host_a.expect_none("Traceback", stream="stderr")
