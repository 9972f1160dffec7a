"""Transport knobs of the UDP host and client that `HostConfig`/`ClientConfig` leave out.

The defaults suit a LAN chat; tests shrink some of them to reach a limit quickly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from net.protocol.limits import MAX_FRAME_BYTES
from net.udp.channel import STREAM_PIECE_BYTES, ChannelConfig
from net.udp.receiver import MAX_WINDOW
from net.udp.retry import TOKEN_LIFETIME
from net.udp.rtt import RttConfig
from net.udp.sender import SenderConfig

#: A hello frame is well under this (nickname, client id and password are short); so are the
#: pieces of a TLS stream (`net.udp.channel.STREAM_PIECE_BYTES`).
HELLO_MAX_BYTES = STREAM_PIECE_BYTES


@dataclass(frozen=True, slots=True)
class UdpTuning:
    #: Fragments in flight per peer, in each direction.
    send_window: int = 128
    #: Fragments a member's channel buffers behind a gap; before the hello only a few.
    member_receive_window: int = 128
    handshake_receive_window: int = 4
    #: Connections still saying hello at most; a new one then evicts the oldest.
    max_handshakes: int = 64
    #: Unacknowledged bytes queued for one member before it is dropped as too slow.
    max_backlog_bytes: int = 8 * 1024 * 1024
    #: A fragment unacknowledged this long (after at least `min_retransmits` resends) makes
    #: the channel give up. None = the heartbeat timeout.
    give_up_after: float | None = None
    min_retransmits: int = 4
    rtt: RttConfig = field(default_factory=RttConfig)
    #: Seconds a closing member gets to acknowledge its last messages and bye.
    close_grace: float = 1.0
    #: Seconds `stop()` lets members acknowledge their bye before the socket closes.
    stop_grace: float = 0.5
    #: Replies to strangers (RESET, discovery answers) per second, and their burst.
    reply_rate: float = 200.0
    reply_burst: int = 200
    #: Connection ids remembered after they closed, so replayed datagrams cannot reopen them.
    closed_ids_remembered: int = 4096
    #: Seconds an address-validation token (sent in a RETRY) stays good.
    retry_token_lifetime: float = TOKEN_LIFETIME

    def channel_config(self, *, give_up_after: float, joined: bool) -> ChannelConfig:
        """Settings for one channel (a member's, or one still saying hello)."""
        sender = SenderConfig(
            send_window=self.send_window,
            give_up_after=self.give_up_after if self.give_up_after is not None else give_up_after,
            min_retransmits=self.min_retransmits,
            max_backlog_bytes=self.max_backlog_bytes,
            rtt=dataclasses.replace(self.rtt),
        )
        if joined:
            return ChannelConfig(self.member_receive_window, MAX_FRAME_BYTES, sender)
        return ChannelConfig(self.handshake_receive_window, HELLO_MAX_BYTES, sender)

    def client_channel_config(self, *, give_up_after: float) -> ChannelConfig:
        """A client's channel: the host's welcome (history) may be a large burst."""
        config = self.channel_config(give_up_after=give_up_after, joined=True)
        config.receive_window = MAX_WINDOW
        return config
