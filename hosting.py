"""Making a chat host discoverable: a host and its Announcer started and stopped together.

This sits above `net/` because it composes two of its parts: the transports build the host,
discovery announces it. `net.discovery` itself only announces, answers and browses; the app
(`gui/`) and the window-less `host` command (`cli/host.py`) are the layers that use both,
and this module is the one place they share for it.

`start_discoverable_host` is what `main.py host` and the GUI's Host view call instead of
`make_host(...).start()`: it starts a host of either transport, taking the next free port
when the user did not choose one (another LanChat host on this PC may hold the default),
and announces it until its `stop` (which says goodbye, then stops the host)::

    host = start_discoverable_host(args.transport, build_config(args), on_event,
                                   port_given=args.port is not None, make_host=make_host)

It raises HostStartError like `ChatHost.start`; `host.port` is the port actually used.

Announcements carry the room's key, the fingerprint of this installation's certificate
(`net.secure.identity`): browsers tell rooms apart by it, and clients check it when they
connect. A caller may pass `fingerprint`; otherwise the installation's identity is read
from the config directory (``$LANCHAT_CONFIG_DIR``, else the OS's user config directory),
and made there on first use.

A UDP host owns the UDP port with the chat's number, so it answers probes itself: its
``discovery_handler`` attribute is set to `Announcer.answer_now`, which it calls with
(datagram, sender) for every datagram on the chat port that is not chat traffic, and it
sends back the bytes returned (if any) from its chat socket.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from net import transports
from net.api import ChatHost, EventSink, HostConfig, HostStartError, Transport
from net.discovery.announcer import Announcer
from net.discovery.interfaces import addresses_to_share, list_interfaces
from net.discovery.wire import RoomInfo, new_host_id
from net.invite import Invite
from net.paths import data_dir, identity_dir
from net.ports import PORT_SEARCH_SPAN, NoFreePortError, check_port, next_free_port
from net.protocol.limits import MAX_NICK_CHARS, MAX_ROOM_NAME_CHARS, PROTOCOL_VERSION

if TYPE_CHECKING:
    from net.host.journal import JournalFactory
    from net.secure.identity import Identity

log = logging.getLogger(__name__)

#: Invites offered for a chat hosted here (best address first): the window's "Invite others"
#: panel and `main.py host` show the same ones.
MAX_INVITES = 4
#: Bind addresses that mean "every interface": the chat is then reachable at this PC's addresses.
_EVERY_INTERFACE = ("", "0.0.0.0", "::")


def default_host_label() -> str:
    """Shown as the host's nickname when the host is not also a member (a window-less host)."""
    name = platform.node().split(".", 1)[0]
    return "".join(c for c in name if c.isprintable())[:MAX_NICK_CHARS]


def default_room_name() -> str:
    """The room name of a window-less host given none: "<this computer's name>'s chat".

    Every host used to be called alike ("LanChat", "Our chat"), so the chats found on a LAN
    could not be told apart by name. (The window offers "<nickname>'s chat", translated.)
    """
    label = default_host_label()
    return f"{label}'s chat"[:MAX_ROOM_NAME_CHARS] if label else "LanChat"


def this_pc_addresses() -> list[str]:
    """The addresses other PCs can most likely reach this one at (LAN IPv4 first)."""
    try:
        found = addresses_to_share(list_interfaces())
    except Exception as exc:  # the list is a convenience; hosting works without it
        log.warning("could not list this PC's addresses: %s", exc)
        found = []
    return found or [platform.node() or "localhost"]


def invite_links(port: int, transport: Transport | str, code: str, bind: str = "") -> list[str]:
    """The invites to share for a chat hosted here, best first: one per address of this PC
    (or the one address the host is bound to), each ``lanchat://ADDRESS:PORT#CODE``."""
    addresses = this_pc_addresses() if bind in _EVERY_INTERFACE else [bind]
    return [str(Invite(address, port, Transport(transport), code)) for address in addresses[:MAX_INVITES]]


def installation_fingerprint() -> bytes:
    """This installation's certificate fingerprint, the key of every room it hosts.

    Raises HostStartError with a sentence for the user when the identity cannot be read or made.
    """
    # Imported here: `cryptography` costs about 90 ms, which the window need not pay to start.
    from net.secure import IdentityError
    from net.secure.identity import load_or_create_identity

    directory = identity_dir()
    try:
        return load_or_create_identity(directory).fingerprint
    except IdentityError as exc:
        raise HostStartError(str(exc)) from None
    except OSError as exc:
        raise HostStartError(
            f"This computer's LanChat identity cannot be made in {directory}: {exc}."
        ) from None


def room_journal(room: str, identity: Identity | None) -> JournalFactory:
    """The journal of the room `room` hosted with `identity`, in the user data folder: its
    recent messages and the messages kept for members who are away survive a restart."""
    from history.room_journal import journal_factory, journal_path  # sqlite3: only to host

    fingerprint = identity.fingerprint if identity is not None else None
    return journal_factory(journal_path(data_dir(), fingerprint, room))


def room_info_provider(
    host: Any,
    transport: Transport | str,
    config: HostConfig,
    *,
    key: bytes,
    nick: str = "",
    host_id: str | None = None,
) -> Callable[[], RoomInfo]:
    """A callable giving the host's current room info (port, member count) for the Announcer."""
    transport = Transport(transport)
    host_id = host_id or new_host_id()

    def info() -> RoomInfo:
        return RoomInfo(
            room=config.room.name,
            nick=nick,
            transport=transport,
            port=host.port,
            host_id=host_id,
            key=key,
            members=int(getattr(host, "member_count", 0)),
            password=config.room.password is not None,
            protocol=PROTOCOL_VERSION,
        )

    return info


class DiscoverableHost:
    """A started `ChatHost` plus the Announcer that makes it discoverable (a ChatHost itself).

    `fingerprint` is the room's key in announcements (this installation's certificate's).
    """

    def __init__(
        self,
        host: ChatHost,
        transport: Transport | str,
        config: HostConfig,
        *,
        fingerprint: bytes,
        nick: str = "",
        **announcer_options: Any,
    ) -> None:
        self.host = host
        self.transport = Transport(transport)
        #: This host's id in announcements: a window that also browses marks its own chat by it.
        self.host_id = new_host_id()
        self.fingerprint = fingerprint
        respond = self.transport is Transport.TCP
        self.announcer = Announcer(
            room_info_provider(
                host,
                self.transport,
                config,
                key=fingerprint,
                nick=nick or default_host_label(),
                host_id=self.host_id,
            ),
            bind=config.bind,
            respond=respond,
            **announcer_options,
        )
        if not respond:
            if hasattr(host, "discovery_handler"):
                host.discovery_handler = self.announcer.answer_now
            else:
                log.info("this UDP host does not pass probes on: it is announced but does not answer probes")

    @property
    def port(self) -> int:
        return self.host.port

    @property
    def code(self) -> str:
        """The room code others see beside this chat in their lists (``7F3A-91C2-...``)."""
        from net.secure.codes import room_code

        return room_code(self.fingerprint)

    @property
    def member_count(self) -> int:
        return int(getattr(self.host, "member_count", 0))

    def start(self, *, require_responder: bool = False) -> None:
        """Start announcing (the host itself was started by `start_discoverable_host`)."""
        self.announcer.start(require_responder=require_responder and self.transport is Transport.TCP)

    def notify_changed(self) -> None:
        """Members or room details changed: announce soon."""
        self.announcer.notify_changed()

    def stop(self, reason: str = "host stopped") -> None:
        """Say goodbye on the LAN, then stop the host."""
        try:
            self.announcer.stop()
        finally:
            self.host.stop(reason)


class _AttemptEvents:
    """Passes one start attempt's host events on to the caller until the attempt is given up:
    the caller hears of the host it gets, not of one stopped to move to the next port."""

    def __init__(self, sink: EventSink | None) -> None:
        self._sink = sink
        self.given_up = False

    def __call__(self, event: object) -> None:
        if not self.given_up and self._sink is not None:
            self._sink(event)


def start_discoverable_host(
    transport: Transport | str,
    config: HostConfig,
    on_event: EventSink | None = None,
    *,
    port_given: bool,
    nick: str = "",
    make_host: Callable[..., ChatHost] | None = None,
    fingerprint: bytes | None = None,
    **announcer_options: Any,
) -> DiscoverableHost:
    """Start a host on `config.port`, or on the next free port from it when not `port_given`.

    `fingerprint` is the room's key to announce; by default this installation's
    (`installation_fingerprint`), which is read (or made) before any port is taken.

    With `port_given` (the user typed --port), a taken port fails with HostStartError as the
    host words it. Otherwise ports are tried upwards, `PORT_SEARCH_SPAN` at most, so a second
    host on one PC simply takes the next one; discovery probes that whole range. Raises
    HostStartError with a sentence for the user when no host could start.
    """
    build = make_host or transports.make_host
    transport = Transport(transport)
    if fingerprint is None:
        fingerprint = config.identity.fingerprint if config.identity else installation_fingerprint()
    port = config.port
    searching = not port_given and port != 0
    last_port = port + PORT_SEARCH_SPAN - 1
    while True:
        if searching:
            try:
                port = next_free_port(transport, port, config.bind, span=last_port - port + 1)
            except NoFreePortError as exc:
                raise HostStartError(str(exc)) from None
        if port != config.port:  # said before the host logs where it listens
            log.info("port %d is taken on this PC; hosting on port %d instead", config.port, port)
        host_config = dataclasses.replace(config, port=port)
        events = _AttemptEvents(on_event)
        host = build(transport, host_config, events if on_event is not None else None)
        try:
            host.start()
        except HostStartError:
            # Another program may have taken the port since we checked it: try the next one.
            if not searching or check_port(port, config.bind).free_for(transport) or port >= last_port:
                raise
            port += 1
            continue
        discoverable = DiscoverableHost(
            host, transport, host_config, fingerprint=fingerprint, nick=nick, **announcer_options
        )
        try:
            # A TCP host free to choose must also own the UDP port with its number, or probes
            # to that port would reach another host (or nobody): then it moves on too.
            discoverable.start(require_responder=searching and port < last_port)
        except OSError:
            events.given_up = True
            host.stop("moving to the next free port")
            port += 1
            continue
        except Exception:
            events.given_up = True
            host.stop("discovery failed to start")
            raise
        break
    log.info("others see this chat on the LAN with the room code %s", discoverable.code)
    return discoverable
