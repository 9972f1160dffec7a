"""What the IP Messenger bridge tells the application: plain frozen data, safe across threads.

Peers are known by the address their packets come from (``host:port`` text, the socket's
truth): the user and host names inside a packet are only labels anyone can write.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from net.ipmsg.attachments import Attachment


@dataclass(frozen=True, slots=True)
class IpmsgUser:
    """One IP Messenger / Feiq / iptux user as listed."""

    address: str  # "10.0.0.7:2425": the key, from the socket
    nick: str
    group: str
    host: str  # the computer name the packets claim (a label)
    user: str  # the login name the packets claim (a label)
    client: str  # the version field: "1", "1_lbt6_0#128#...", "1_iptux ..."
    encoding: str  # what we speak with it: "utf-8", "gbk" or "cp932"
    absent: bool = False

    @property
    def label(self) -> str:
        """How the window names this user: nick (group, host)."""
        details = ", ".join(part for part in (self.group, self.host) if part)
        return f"{self.nick} ({details})" if details else self.nick


@dataclass(frozen=True, slots=True)
class IpmsgUsers:
    """The whole list after a change (a state: the newest replaces older ones in a queue)."""

    users: tuple[IpmsgUser, ...]


@dataclass(frozen=True, slots=True)
class IpmsgMessage:
    """A message from an IP Messenger user (already acknowledged, duplicates removed)."""

    address: str
    nick: str
    text: str
    packet_no: int
    broadcast: bool = False
    files: bool = False  # it offered files too (FILEATTACHOPT)
    verified: bool = False  # the address has proved it receives what we send there (net.ipmsg.guard)
    attachments: tuple[Attachment, ...] = ()  # the files offered, names checked
    refused: int = 0  # entries of the offer refused (unsafe names, bad sizes, kinds we do not take)


@dataclass(frozen=True, slots=True)
class IpmsgDelivered:
    """Every piece of our message `message_id` was acknowledged with RECVMSG."""

    address: str
    message_id: str


@dataclass(frozen=True, slots=True)
class IpmsgUndelivered:
    """Our message `message_id` was not delivered: a piece was never acknowledged after every
    resend, the user left, or it could not be sent at all (`reason` says which, for the user)."""

    address: str
    message_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class IpmsgRead:
    """The peer opened our sealed message (READMSG)."""

    address: str
    packet_no: int


@dataclass(frozen=True, slots=True)
class IpmsgStatus:
    """The bridge started (`running`) or stopped, or could not start (`problem` says why)."""

    running: bool
    problem: str = ""
    port: int = 0


@dataclass(frozen=True, slots=True)
class IpmsgOfferSent:
    """Our files went out to `address` as the offer `packet_no` (waiting for GETFILEDATA)."""

    address: str
    message_id: str
    packet_no: int
    names: tuple[str, ...]
    size: int


@dataclass(frozen=True, slots=True)
class IpmsgFilesReleased:
    """The peer is done with our offer `packet_no` (RELEASEFILES): it received or declined it."""

    address: str
    packet_no: int


@dataclass(frozen=True, slots=True)
class IpmsgTransferProgress:
    """Bytes of file `file_id` of offer `packet_no` moved so far (`sending`: we serve it)."""

    address: str
    packet_no: int
    file_id: int
    done: int
    total: int
    sending: bool = False


@dataclass(frozen=True, slots=True)
class IpmsgTransferDone:
    """File `file_id` of offer `packet_no` arrived whole at `path` (or, `sending`, was served)."""

    address: str
    packet_no: int
    file_id: int
    path: Path | None
    size: int
    sending: bool = False


@dataclass(frozen=True, slots=True)
class IpmsgTransferFailed:
    """Receiving (or serving) file `file_id` of offer `packet_no` stopped; `reason` says why."""

    address: str
    packet_no: int
    file_id: int
    reason: str
    sending: bool = False


IpmsgFileEvent = (
    IpmsgOfferSent | IpmsgFilesReleased | IpmsgTransferProgress | IpmsgTransferDone | IpmsgTransferFailed
)

IpmsgEvent = (
    IpmsgUsers
    | IpmsgMessage
    | IpmsgDelivered
    | IpmsgUndelivered
    | IpmsgRead
    | IpmsgStatus
    | IpmsgFilesReleased
)
