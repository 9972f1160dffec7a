"""Which answers a browser asked for: its own probe ids, from where they went, from the chat port."""

from __future__ import annotations

import pytest

from net.discovery.destinations import LOOPBACK_ENV, parse_probe_target, plan_destinations
from net.discovery.solicited import ANSWER_WINDOW, MAX_ROUNDS, SentProbes, probe_round
from tests.discovery.fakes import ALL, ETH, WIFI

PORTS = [47800, 47801]


@pytest.fixture
def lan_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production destination planning, for computing only: nothing is sent in these tests."""
    monkeypatch.delenv(LOOPBACK_ENV, raising=False)


def test_loopback_round_takes_answers_from_the_probed_addresses_and_chat_ports_only() -> None:
    sent = probe_round("p1", plan_destinations(PORTS), None, now=0.0)
    assert sent.refusal(("127.0.0.1", 47800), 47800) is None
    assert sent.refusal(("::1", 47801, 0, 0), 47801) is None
    assert sent.refusal(("::ffff:127.0.0.1", 47800, 0, 0), 47800) is None  # a dual-stack view
    assert "not sent to" in (sent.refusal(("127.0.0.2", 47800), 47800) or "")  # never probed
    assert "not the chat port" in (sent.refusal(("127.0.0.1", 50123), 47800) or "")
    assert "not the chat port" in (sent.refusal(("127.0.0.1", 47800), 47801) or "")
    assert "not sent to" in (sent.refusal(("127.0.0.1", 47802), 47802) or "")  # a port not probed


@pytest.mark.usefixtures("lan_mode")
def test_broadcast_round_takes_answers_from_this_pcs_networks() -> None:
    sent = probe_round("p1", plan_destinations(PORTS, interfaces=ALL), ALL, now=0.0)
    assert sent.refusal(("192.168.1.77", 47800), 47800) is None  # eth0 is 192.168.1.5/24
    assert sent.refusal(("10.20.200.1", 47801), 47801) is None  # wlan0 is 10.20.30.40/16
    assert sent.refusal(("192.168.2.77", 47800), 47800) is not None
    assert sent.refusal(("8.8.8.8", 47800), 47800) is not None
    assert sent.refusal(("192.168.1.77", 47802), 47802) is not None  # not a probed port
    # Multicast: link-local addresses of the interfaces it went out on, and their IPv6 networks.
    assert sent.refusal(("fe80::99", 47800, 0, ETH.index), 47800) is None
    assert sent.refusal(("fe80::99", 47800, 0, 42), 47800) is not None
    assert sent.refusal(("2001:db8::77", 47800, 0, 0), 47800) is None  # eth0 has 2001:db8::5/64
    assert sent.refusal(("2001:db9::77", 47800, 0, 0), 47800) is not None
    assert WIFI.index is not None and sent.refusal(("fe80::1", 47801, 0, WIFI.index), 47801) is None


@pytest.mark.usefixtures("lan_mode")
def test_unicast_only_round_takes_answers_from_its_targets_only() -> None:
    targets = [parse_probe_target("10.9.0.0/24"), parse_probe_target("[fe80::1%2]:47805")]
    planned = plan_destinations(PORTS, interfaces=ALL, extra=targets, broadcast=False)
    sent = probe_round("p1", planned, ALL, now=0.0)
    assert sent.refusal(("10.9.0.200", 47801), 47801) is None
    assert sent.refusal(("10.9.1.200", 47801), 47801) is not None
    assert sent.refusal(("192.168.1.77", 47800), 47800) is not None  # no broadcast this round
    assert sent.refusal(("fe80::1", 47805, 0, 2), 47805) is None
    assert sent.refusal(("fe80::1", 47805, 0, 3), 47805) is not None  # another interface's fe80::1
    assert sent.refusal(("fe80::1", 47800, 0, 2), 47800) is not None  # only 47805 was probed there
    # A sweep shares one set of ports among its addresses.
    sweep = [ports for (ip, _), ports in sent.unicast.items() if ip.version == 4]
    assert len(sweep) == 254 and all(ports is sweep[0] for ports in sweep)


def test_answers_name_a_recent_probe_of_ours() -> None:
    probes = SentProbes()
    probes.add(probe_round("p1", plan_destinations(PORTS), None, now=10.0))
    assert probes.refusal("p1", ("127.0.0.1", 47800), 47800, now=10.5) is None
    assert "no probe" in (probes.refusal("other", ("127.0.0.1", 47800), 47800, now=10.5) or "")
    assert probes.refusal("p1", ("127.0.0.1", 47800), 47800, now=10.0 + ANSWER_WINDOW) is None
    assert probes.refusal("p1", ("127.0.0.1", 47800), 47800, now=10.1 + ANSWER_WINDOW) is not None


def test_rounds_remembered_are_bounded() -> None:
    probes = SentProbes()
    for n in range(MAX_ROUNDS + 5):
        probes.add(probe_round(f"p{n}", plan_destinations(PORTS), None, now=0.0))
    assert probes.refusal("p0", ("127.0.0.1", 47800), 47800, now=0.0) is not None
    assert probes.refusal(f"p{MAX_ROUNDS + 4}", ("127.0.0.1", 47800), 47800, now=0.0) is None
    assert probes.refusal("p5", ("127.0.0.1", 47800), 47800, now=0.0) is None
