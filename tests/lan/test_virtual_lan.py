"""The virtual LAN itself: separate PCs, real broadcast and multicast, nothing left behind.

These checks use tiny Python programs instead of LanChat, so that a failure here points at
the fixture (or the machine), not at the application.
"""

from __future__ import annotations

import signal
import sys

import pytest

from tests.lan import virtual_lan as vlan

pytestmark = pytest.mark.lan

TEST_PORT = 47123

LISTENER = """
import socket, sys
v4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
v4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
v4.bind(("", PORT))
v6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
v6.bind(("::", PORT))
print("ready", flush=True)
import selectors
sel = selectors.DefaultSelector()
sel.register(v4, selectors.EVENT_READ)
sel.register(v6, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        data, peer = key.fileobj.recvfrom(2048)
        print(data.decode(), "from", peer[0], flush=True)
""".replace("PORT", str(TEST_PORT))

SENDER = """
import socket, sys
targets = sys.argv[1:]
for target in targets:
    if ":" in target:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        address, _, scope = target.partition("%")
        s.sendto(f"to {target}".encode(), (address, PORT, 0, socket.if_nametoindex(scope) if scope else 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.sendto(f"to {target}".encode(), (target, PORT))
    s.close()
print("sent", flush=True)
""".replace("PORT", str(TEST_PORT))


def test_each_pc_is_a_separate_computer_with_its_own_addresses(lan: vlan.VirtualLan) -> None:
    assert [pc.ipv4 for pc in lan.pcs] == [f"10.77.{lan.subnet_octet}.{n}" for n in (1, 2, 3)]
    link_locals = {pc.ipv6_link_local for pc in lan.pcs}
    assert len(link_locals) == 3 and all(address.startswith("fe80:") for address in link_locals)
    for pc in lan.pcs:
        interfaces = pc.check_output([sys.executable, "-c", "import socket; print(socket.if_nameindex())"])
        assert "'eth0'" in interfaces and "'lo'" in interfaces
        addresses = pc.ip("-4", "-o", "addr", "show", "dev", "eth0")
        assert f"inet {pc.ipv4}/24 brd {lan.broadcast}" in addresses
        assert "tentative" not in pc.ip("-6", "addr", "show", "dev", "eth0")


def test_broadcast_multicast_and_unicast_reach_the_other_pcs(lan: vlan.VirtualLan) -> None:
    listeners = {pc.number: pc.run([sys.executable, "-c", LISTENER], name="listener") for pc in lan.pcs[1:]}
    for listener in listeners.values():
        listener.expect("ready")
    targets = [
        lan.broadcast,
        "255.255.255.255",
        "ff02::1%eth0",
        lan[2].ipv4,
        f"{lan[3].ipv6_link_local}%eth0",
    ]
    sender = lan[1].run([sys.executable, "-c", SENDER, *targets], name="sender")
    sender.expect("sent")
    assert sender.wait() == 0
    for number, listener in listeners.items():
        for target in (lan.broadcast, "255.255.255.255"):
            listener.expect(f"to {target} from {lan[1].ipv4}", timeout=5)
        listener.expect(f"to ff02::1%eth0 from {lan[1].ipv6_link_local}", timeout=5)
        unicast = lan[2].ipv4 if number == 2 else f"{lan[3].ipv6_link_local}%eth0"
        listener.expect(f"to {unicast} from", timeout=5)


def test_processes_in_a_pc_run_without_loopback_only(
    lan: vlan.VirtualLan, loopback_only_is_set: None
) -> None:
    code = (
        "import os; print(repr(os.environ.get('LANCHAT_LOOPBACK_ONLY')), "
        "os.environ['LANCHAT_CONFIG_DIR'], os.environ['LANCHAT_LOG_DIR'])"
    )
    loopback_only, config_dir, log_dir = lan[2].check_output([sys.executable, "-c", code]).split()
    assert loopback_only == "None"
    # Each PC keeps its own settings and logs, away from the real user's.
    assert config_dir == str(lan[2].home / "config") and log_dir == str(lan[2].home / "log")
    assert lan[2].home.parent == lan.workdir


def test_each_pc_has_its_own_computer_name(lan: vlan.VirtualLan) -> None:
    code = "import platform; print(platform.node())"
    names = [pc.check_output([sys.executable, "-c", code]).strip() for pc in lan.pcs]
    assert names == ["pc1", "pc2", "pc3"]
    process = lan[3].run([sys.executable, "-c", code], name="node")
    process.expect("pc3")
    assert process.wait() == 0


def test_an_unplugged_pc_is_cut_off_and_comes_back(lan: vlan.VirtualLan) -> None:
    listener = lan[2].run([sys.executable, "-c", LISTENER], name="listener")
    listener.expect("ready")
    lan[2].unplug()
    assert lan[2].link_state() in {"DOWN", "LOWERLAYERDOWN"}
    mark = listener.mark()
    lan[1].check_output([sys.executable, "-c", SENDER, lan.broadcast])
    lan[2].plug()
    lan[1].check_output([sys.executable, "-c", SENDER, lan[2].ipv4])
    listener.expect(f"to {lan[2].ipv4} from {lan[1].ipv4}", after=mark)
    listener.expect_none(f"to {lan.broadcast}", after=mark)


def test_closing_kills_processes_and_deletes_every_namespace(lan_session: None) -> None:
    links_before = vlan.root_links()
    lan = vlan.VirtualLan(2)
    try:
        lan.build()
        assert vlan.root_links() == links_before, "no interface may appear in the root namespace"
        sleeper = lan[1].run(["sleep", "300"], name="sleeper")
        stubborn = lan[2].run([sys.executable, "-c", "import signal, time\n"
                               "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                               "print('ready', flush=True)\ntime.sleep(300)"], name="stubborn")  # fmt: skip
        stubborn.expect("ready")
        names = [lan.switch_netns, lan[1].netns, lan[2].netns]
        assert set(names) <= set(vlan.list_namespaces())
    finally:
        lan.close()
    assert sleeper.returncode is not None and stubborn.returncode == -signal.SIGKILL
    assert not set(names) & set(vlan.list_namespaces())
    assert not lan.workdir.exists()
    assert vlan.root_links() == links_before


def test_namespaces_of_a_killed_run_are_recognised_as_stale(lan_session: None) -> None:
    dead_pid = 4_000_000  # above the default pid_max: no such process
    name = f"lct{dead_pid}-1-sw"
    vlan.run_ip("netns", "add", name)
    try:
        assert name in vlan.stale_namespaces()
        assert name in vlan.remove_stale_namespaces()
        assert name not in vlan.list_namespaces()
    finally:
        vlan.run_ip("netns", "delete", name, check=False)
