"""What to tell a user when no chat answers: the likely causes, most likely first. Pure.

"I can't see the other users" has a handful of usual causes; which ones apply can partly be
read from this PC's interfaces (no LAN address, only 169.254.x.x, a VPN adapter, several
networks). The rest (a firewall on the host, Wi-Fi client isolation, a router between the
two PCs) cannot be seen from here, so they are always listed, with what to do about each.
`main.py discover`, `main.py doctor` and the GUI's diagnostics panel show these sentences.
"""

from __future__ import annotations

import ipaddress
import sys

from net.discovery.interfaces import NetworkInterface
from net.discovery.wire import DISCOVERY_PORT, PROBE_PORTS

PORT_RANGE_TEXT = f"{PROBE_PORTS[0]}-{PROBE_PORTS[-1]}"


def _lan_interfaces(interfaces: list[NetworkInterface]) -> list[NetworkInterface]:
    return [i for i in interfaces if i.is_up and not i.is_loopback and i.ipv4]


def _firewall_advice(platform: str) -> str:
    common = (
        f"A firewall may block discovery (UDP ports {DISCOVERY_PORT}-{PROBE_PORTS[-1]}) or the chat"
        f" (TCP/UDP ports {PORT_RANGE_TEXT}) on the host's PC or on yours."
    )
    if platform.startswith("win"):
        return (
            common + " On Windows, the first time LanChat hosts or searches, Windows Defender Firewall asks"
            " whether to allow it: allow it on Private networks. If that prompt was dismissed or answered"
            ' "Cancel", open Windows Security > Firewall & network protection > "Allow an app through'
            ' firewall" and tick LanChat (or python) for Private, and make sure the network itself is set'
            " to Private, not Public, in Settings > Network & internet."
        )
    if platform == "darwin":
        return (
            common + " On macOS, allow LanChat when asked whether it may accept incoming connections, or"
            " in System Settings > Network > Firewall > Options."
        )
    return (
        common + f" On Linux, allow them, e.g. `sudo ufw allow {DISCOVERY_PORT}:{PROBE_PORTS[-1]}/udp` and"
        f" `sudo ufw allow {PORT_RANGE_TEXT.replace('-', ':')}/tcp`, or the firewalld equivalent."
    )


def explain_nothing_found(
    interfaces: list[NetworkInterface],
    *,
    loopback_only: bool,
    probed_ports: bool = False,
    platform: str = sys.platform,
) -> list[str]:
    """Likely reasons why no chat answered, as sentences for the user, most specific first."""
    reasons: list[str] = []
    if loopback_only:
        reasons.append(
            "LANCHAT_LOOPBACK_ONLY is set, so only chats on this PC (127.0.0.1 and ::1) were looked"
            " for. Unset it to search the local network."
        )
    lan = _lan_interfaces(interfaces)
    if interfaces and not lan:
        reasons.append(
            "This PC has no network address except loopback: connect it to the network (cable or"
            " Wi-Fi) first."
        )
    elif lan and all(ipaddress.ip_address(a.address).is_link_local for i in lan for a in i.ipv4):
        reasons.append(
            "This PC only has a 169.254.x.x address: no DHCP server gave it a real one. Check the"
            " cable or Wi-Fi connection, or restart the router."
        )
    vpns = [i.name for i in interfaces if i.is_up and i.looks_vpn and i.addresses]
    if vpns:
        reasons.append(
            f"A VPN seems to be active ({', '.join(vpns)}). VPN clients often send all traffic"
            " through the tunnel or block the local network: disconnect it, or allow local network"
            " access in its settings."
        )
    reasons.append("Is the chat running? The host must have started hosting before you search.")
    reasons.append(_firewall_advice(platform))
    reasons.append(
        "The host's PC must be on the same local network (the same subnet) as yours: searching"
        " uses broadcasts, which routers do not pass. If the host is on another subnet, or the"
        " network blocks broadcasts, ask for the host's address and join by address, or probe it"
        " directly (`main.py discover --probe ADDRESS`, or add it under Settings > extra addresses)."
    )
    reasons.append(
        "Guest Wi-Fi and many public or office Wi-Fi networks isolate devices from each other"
        ' ("client isolation" / "AP isolation"): then neither searching nor chatting works. Use a'
        " normal home or office network, or a cable."
    )
    if not probed_ports:
        reasons.append(
            f"A host on a port outside {PORT_RANGE_TEXT} is only found by its announcements; probe it"
            " with ADDRESS:PORT."
        )
    return reasons
