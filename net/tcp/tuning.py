"""Transport knobs of the TCP host that `HostConfig` leaves out.

The defaults suit a LAN chat; tests shrink them to reach a limit (a full outbound buffer,
say) in a fraction of a second instead of after megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass

from net.protocol.limits import MAX_FRAME_BYTES


@dataclass(frozen=True, slots=True)
class HostTuning:
    #: Bytes a member's own socket may refuse (queued for it, unsent) before that member is
    #: dropped as too slow. Several maximum frames fit, so one big message never trips it.
    outbound_limit: int = 4 * MAX_FRAME_BYTES
    #: SO_SNDBUF for accepted connections (None = the OS default, which grows on demand).
    socket_send_buffer: int | None = None
    #: Seconds a closing member gets to take its last messages and bye before it is cut off.
    close_grace: float = 1.0
    #: Seconds `stop()` lets members take their bye and close their end (they do on our FIN)
    #: before every socket is closed; a member that keeps its end open costs this much.
    stop_grace: float = 0.5
    #: Open connections (joined or still saying hello) beyond which new ones are turned away;
    #: None = the room's member limit plus a margin for handshakes.
    max_connections: int | None = None
    #: Bytes read from one connection per round (the others get their turn in between).
    recv_size: int = 64 * 1024
    #: Bytes of output a round may queue per receiver before the router writes it out.
    round_bytes: int = 64 * 1024
    #: Passes over the sockets ready by then that a round may take before it is written.
    extra_read_passes: int = 4

    def __post_init__(self) -> None:
        if self.outbound_limit < MAX_FRAME_BYTES:
            raise ValueError("outbound_limit must hold at least one maximum-size frame")
