"""Which probe answers a browser asked for. Pure; time is an argument.

An answer arrives by unicast on the browser's own socket, so anything that can reach that
socket could send one, naming any room and any port. A browser therefore takes an answer
only when

- it names a probe the browser sent within the last `ANSWER_WINDOW` seconds (probe ids are
  random, so a machine that never saw the probe cannot answer it);
- it comes from an address that probe was sent to: a unicast destination, or an address on
  a network a broadcast or multicast probe reached (the IPv4 networks of this PC's
  interfaces for a broadcast, link-local addresses of the interface, or its IPv6 networks,
  for a multicast);
- it comes from the chat port it names, and that port was probed there: hosts answer from
  their chat port itself (a TCP host's responder is bound to it, a UDP host answers on its
  chat socket), so an answer from any other port is another program's.

Announcements are not answers: they come unasked from anywhere, and the list of chats is
what keeps a copy of a room from moving or removing the real one (see `chatlist`).
"""

from __future__ import annotations

import ipaddress
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from net.addresses import SockAddr
from net.discovery.destinations import Destination
from net.discovery.interfaces import NetworkInterface
from net.discovery.wire import MAX_REPLY_DELAY

log = logging.getLogger(__name__)

#: How long after sending a probe its answers are taken: an answerer may wait up to
#: `MAX_REPLY_DELAY` before answering, plus two seconds for a busy host and for sending a
#: sweep of many addresses in batches.
ANSWER_WINDOW = MAX_REPLY_DELAY + 2.0
#: Rounds of probes remembered at most (Refresh pressed many times within the window).
MAX_ROUNDS = 16

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: An address as probes and answers carry it: the IP and, for a link-local IPv6 one, its scope.
Host = tuple[IPAddress, int]


def host_of(sockaddr: SockAddr) -> Host | None:
    """(ip, scope) of a socket address; IPv4-mapped addresses as IPv4, None if unreadable."""
    try:
        ip: IPAddress = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    scope = int(sockaddr[3]) if len(sockaddr) >= 4 and ip.version == 6 and ip.is_link_local else 0
    return (ip, scope)


@dataclass(frozen=True, slots=True)
class ProbeRound:
    """Where one probe (one id) went: what may answer it."""

    probe_id: str
    sent_at: float
    unicast: Mapping[Host, frozenset[int]]  # address probed -> ports probed there
    ports: frozenset[int]  # ports of the broadcast and multicast destinations
    networks: tuple[IPNetwork, ...]  # networks a broadcast or multicast destination reached
    scopes: frozenset[int]  # interfaces a multicast destination went out on

    def refusal(self, sender: SockAddr, port: int) -> str | None:
        """Why an answer from `sender` naming chat port `port` was not asked for, or None."""
        host = host_of(sender)
        if host is None:
            return "an unreadable address"
        if sender[1] != port:
            return f"port {sender[1]}, not the chat port {port} it names"
        probed = self.unicast.get(host)
        if probed is not None and port in probed:
            return None
        ip, scope = host
        if port in self.ports:
            if ip.version == 6 and ip.is_link_local:  # the same fe80:: network is on every link
                if scope in self.scopes:
                    return None
            elif any(ip in network for network in self.networks if network.version == ip.version):
                return None
        return "an address and port this probe was not sent to"


def probe_round(
    probe_id: str,
    destinations: Iterable[Destination],
    interfaces: Sequence[NetworkInterface] | None,
    now: float,
) -> ProbeRound:
    """The round of probe `probe_id` sent to `destinations` from a PC with `interfaces`."""
    unicast: dict[Host, set[int]] = {}
    ports: set[int] = set()
    scopes: set[int] = set()
    broadcast = False
    for destination in destinations:
        port = int(destination.sockaddr[1])
        if destination.kind == "unicast":
            host = host_of(destination.sockaddr)
            if host is not None:
                unicast.setdefault(host, set()).add(port)
            continue
        ports.add(port)
        if destination.kind == "multicast":
            scopes.add(int(destination.sockaddr[3]))
        else:
            broadcast = True
    networks: list[IPNetwork] = []
    for interface in interfaces or ():
        if not interface.is_up or interface.is_loopback:
            continue
        for address in interface.addresses:
            if (address.version == 4 and broadcast) or (address.version == 6 and interface.index in scopes):
                network = ipaddress.ip_network(f"{address.address}/{address.prefixlen}", strict=False)
                if network not in networks:
                    networks.append(network)
    # A sweep probes many addresses on the same ports: share one set of ports among them.
    shared: dict[frozenset[int], frozenset[int]] = {}
    return ProbeRound(
        probe_id,
        now,
        {host: shared.setdefault(frozenset(p), frozenset(p)) for host, p in unicast.items()},
        frozenset(ports),
        tuple(networks),
        frozenset(scopes),
    )


class SentProbes:
    """The rounds of probes sent recently, to tell answers asked for from the rest."""

    def __init__(self, window: float = ANSWER_WINDOW, max_rounds: int = MAX_ROUNDS) -> None:
        self._rounds: OrderedDict[str, ProbeRound] = OrderedDict()
        self._window = window
        self._max_rounds = max_rounds

    def add(self, sent: ProbeRound) -> None:
        self._rounds[sent.probe_id] = sent
        self._rounds.move_to_end(sent.probe_id)
        while len(self._rounds) > self._max_rounds:
            self._rounds.popitem(last=False)

    def refusal(self, probe_id: str, sender: SockAddr, port: int, now: float) -> str | None:
        """Why an answer to `probe_id` from `sender`, naming chat port `port`, is not taken
        (a reason for the log), or None when the browser asked for it."""
        while self._rounds:
            oldest = next(iter(self._rounds.values()))
            if now - oldest.sent_at <= self._window:
                break
            self._rounds.popitem(last=False)
        sent = self._rounds.get(probe_id)
        if sent is None:
            return "it names no probe sent in the last few seconds"
        return sent.refusal(sender, port)
