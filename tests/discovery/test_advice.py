"""What a user is told when nothing answers: tailored to what this PC's interfaces show."""

from __future__ import annotations

from net.discovery.advice import explain_nothing_found
from tests.discovery.fakes import ETH, LOOPBACK, VPN, WIFI, interface


def joined(reasons: list[str]) -> str:
    return "\n".join(reasons)


def test_always_mentions_firewall_subnet_and_isolation() -> None:
    text = joined(explain_nothing_found([LOOPBACK, ETH], loopback_only=False, platform="linux"))
    assert "firewall" in text
    assert "same subnet" in text
    assert "client isolation" in text
    assert "LANCHAT_LOOPBACK_ONLY" not in text
    assert "VPN" not in text


def test_windows_firewall_prompt_is_explained() -> None:
    text = joined(explain_nothing_found([LOOPBACK, ETH], loopback_only=False, platform="win32"))
    assert "Windows Defender Firewall" in text
    assert "Allow an app through" in text
    assert "Private" in text


def test_tailored_causes_come_first() -> None:
    reasons = explain_nothing_found([LOOPBACK, ETH, VPN], loopback_only=True, platform="darwin")
    assert "LANCHAT_LOOPBACK_ONLY" in reasons[0]
    assert "VPN" in reasons[1] and "wg0" in reasons[1]
    assert "macOS" in joined(reasons)
    assert "no network address except loopback" in explain_nothing_found([LOOPBACK], loopback_only=False)[0]
    dhcp_failed = interface("eth0", "169.254.7.7/16")
    assert "169.254" in explain_nothing_found([LOOPBACK, dhcp_failed], loopback_only=False)[0]
    assert "169.254" not in joined(explain_nothing_found([LOOPBACK, WIFI], loopback_only=False))


def test_port_advice_only_without_explicit_ports() -> None:
    assert "ADDRESS:PORT" in joined(explain_nothing_found([ETH], loopback_only=False))
    assert "ADDRESS:PORT" not in joined(explain_nothing_found([ETH], loopback_only=False, probed_ports=True))
