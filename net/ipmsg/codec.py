"""IP Messenger datagrams: ``Ver:PacketNo:User:Host:Command:Extra``, parsed and built. No I/O.

IP Messenger, Feiq (飞秋) and iptux all speak this on UDP port 2425. The command number's
low byte is the *mode* (what the packet is), the bits above are *options* whose meaning
depends on the mode (0x100 is ABSENCEOPT on an entry and SENDCHECKOPT on a message).

Everything that comes from the network goes through `parse_packet`, which either returns a
`Packet` or raises `IpmsgFormatError` (never anything else): the packet is bounded
(`MAX_PACKET_BYTES`, IP Messenger's own receive buffer), the header fields are bounded and
the packet number and command must be decimal numbers. The version field is free text:
IP Messenger sends ``1``, Feiq ``1_lbt6_0#128#<MAC>#...``, iptux ``1_iptux ...``.

Text is bytes on the wire; which encoding those bytes are in is not in the header except
through the UTF8OPT flag, so decoding is a separate step (`net.ipmsg.encoding`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 2425
#: IP Messenger's receive buffer (MAX_UDPBUF in its ipmsg.h): a longer datagram is refused.
MAX_PACKET_BYTES = 32768
#: What we send stays within iptux's buffer (MAX_UDPLEN 8192), the smallest of the family.
MAX_SEND_BYTES = 8000
#: Bounds on the header fields (IP Messenger's own names are at most 80 bytes).
MAX_VERSION_BYTES = 256
MAX_NAME_BYTES = 256
MAX_NUMBER_DIGITS = 10  # a packet number or command is an unsigned 32-bit number

# Modes (low byte of the command).
NOOPERATION = 0x00
BR_ENTRY = 0x01
BR_EXIT = 0x02
ANSENTRY = 0x03
BR_ABSENCE = 0x04
SENDMSG = 0x20
RECVMSG = 0x21
READMSG = 0x30
DELMSG = 0x31
ANSREADMSG = 0x32
GETINFO = 0x40
SENDINFO = 0x41
GETABSENCEINFO = 0x50
SENDABSENCEINFO = 0x51
GETFILEDATA = 0x60
RELEASEFILES = 0x61
GETDIRFILES = 0x62

# Options of every mode.
ABSENCEOPT = 0x00000100
SERVEROPT = 0x00000200
DIALUPOPT = 0x00010000
FILEATTACHOPT = 0x00200000
ENCRYPTOPT = 0x00400000
UTF8OPT = 0x00800000
CAPUTF8OPT = 0x01000000

# Options of SENDMSG.
SENDCHECKOPT = 0x00000100
SECRETOPT = 0x00000200
BROADCASTOPT = 0x00000400
MULTICASTOPT = 0x00000800
AUTORETOPT = 0x00002000
RETRYOPT = 0x00004000
NOLOGOPT = 0x00020000
NOADDLISTOPT = 0x00080000
READCHECKOPT = 0x00100000

MODE_MASK = 0x000000FF
OPTION_MASK = 0xFFFFFF00

MODE_NAMES = {
    NOOPERATION: "NOOPERATION",
    BR_ENTRY: "BR_ENTRY",
    BR_EXIT: "BR_EXIT",
    ANSENTRY: "ANSENTRY",
    BR_ABSENCE: "BR_ABSENCE",
    SENDMSG: "SENDMSG",
    RECVMSG: "RECVMSG",
    READMSG: "READMSG",
    DELMSG: "DELMSG",
    ANSREADMSG: "ANSREADMSG",
    GETINFO: "GETINFO",
    SENDINFO: "SENDINFO",
    GETABSENCEINFO: "GETABSENCEINFO",
    SENDABSENCEINFO: "SENDABSENCEINFO",
    GETFILEDATA: "GETFILEDATA",
    RELEASEFILES: "RELEASEFILES",
    GETDIRFILES: "GETDIRFILES",
}

# File kinds in an attachment list and a GETDIRFILES stream (the low byte of fileattr).
FILE_REGULAR = 0x1
FILE_DIR = 0x2
FILE_RETPARENT = 0x3
#: Extended attribute of a file entry: its modification time (hex seconds), ``14=<mtime>``.
FILE_MTIME = 0x14


class IpmsgFormatError(ValueError):
    """A datagram that is not a well-formed IP Messenger packet (the message says why)."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One IP Messenger packet. Header text fields are bytes: their encoding is the peer's."""

    version: bytes
    packet_no: int
    user: bytes
    host: bytes
    command: int
    extra: bytes = b""

    @property
    def mode(self) -> int:
        return self.command & MODE_MASK

    @property
    def options(self) -> int:
        return self.command & OPTION_MASK

    def has(self, option: int) -> bool:
        return bool(self.command & option)

    @property
    def mode_name(self) -> str:
        return MODE_NAMES.get(self.mode, f"0x{self.mode:02x}")


def _number(field: bytes, what: str) -> int:
    if not field or len(field) > MAX_NUMBER_DIGITS or not field.isdigit():
        raise IpmsgFormatError(f"the {what} is not a decimal number")
    value = int(field)
    if value > 0xFFFFFFFF:
        raise IpmsgFormatError(f"the {what} does not fit in 32 bits")
    return value


def parse_packet(data: bytes) -> Packet:
    """Read one datagram; IpmsgFormatError (only) when it is not an IP Messenger packet."""
    if len(data) > MAX_PACKET_BYTES:
        raise IpmsgFormatError(f"the datagram is {len(data)} bytes, more than {MAX_PACKET_BYTES}")
    fields = data.split(b":", 5)
    if len(fields) < 5:
        raise IpmsgFormatError("fewer than five ':'-separated header fields")
    version, packet_no, user, host, command = fields[:5]
    extra = fields[5] if len(fields) == 6 else b""
    if not version or len(version) > MAX_VERSION_BYTES or not version[:1].isdigit():
        raise IpmsgFormatError("the version field does not start with a protocol version number")
    if len(user) > MAX_NAME_BYTES or len(host) > MAX_NAME_BYTES:
        raise IpmsgFormatError("the user or host name is too long")
    return Packet(
        version=version,
        packet_no=_number(packet_no, "packet number"),
        user=user,
        host=host,
        command=_number(command.rstrip(b"\0"), "command"),
        extra=extra,
    )


def build_packet(packet: Packet) -> bytes:
    """The datagram for `packet`, NUL-terminated like IP Messenger's own.

    Header fields may not contain ':' (the separator), which would shift every field after
    them for the receiver; our own user and host names are cleaned by `header_name`.
    """
    for name in (packet.version, packet.user, packet.host):
        if b":" in name:
            raise ValueError("a header field contains ':'")
    head = b"%s:%d:%s:%s:%d:" % (packet.version, packet.packet_no, packet.user, packet.host, packet.command)
    data = head + packet.extra
    return data if data.endswith(b"\0") else data + b"\0"


def header_name(text: str, limit: int = 64) -> bytes:
    """A user or host name fit for a header: printable ASCII (readable in every code page),
    no ':' (the separator), bounded; b"lanchat" when nothing is left."""
    data = bytes(byte for byte in text.encode("ascii", "ignore") if 0x20 < byte < 0x7F and byte != 0x3A)
    return data[:limit] or b"lanchat"


# --- entry extras ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EntryExtra:
    """What BR_ENTRY / ANSENTRY / BR_ABSENCE carry: ``nick\\0group``, then client-specific parts.

    iptux appends ``\\0icon\\0encoding``; IP Messenger (with UTF8OPT) appends a UTF-8 block
    ``\\n\\0UN:user\\nHN:host\\nNN:nick\\nGN:group\\n``. Only nick and group matter to us,
    plus the encoding iptux names (it is how iptux says "I speak UTF-8").
    """

    nick: bytes
    group: bytes = b""
    encoding: bytes = b""  # iptux's fourth part (``utf-8``), empty when absent
    utf8_nick: bytes = b""  # NN: of IP Messenger's UTF-8 block
    utf8_group: bytes = b""  # GN: of that block


def parse_entry_extra(extra: bytes) -> EntryExtra:
    """Split an entry packet's extra; never fails (missing parts are empty)."""
    parts = extra.split(b"\0")
    nick = parts[0] if parts else b""
    group = parts[1] if len(parts) > 1 else b""
    encoding = b""
    if len(parts) > 3 and not parts[2].startswith(b"\n") and len(parts[3]) <= 32:
        encoding = parts[3]
    utf8_nick = utf8_group = b""
    for part in parts[2:]:
        for line in part.split(b"\n"):
            if line.startswith(b"NN:"):
                utf8_nick = line[3:]
            elif line.startswith(b"GN:"):
                utf8_group = line[3:]
    return EntryExtra(nick, group, encoding, utf8_nick, utf8_group)


def build_entry_extra(nick: bytes, group: bytes) -> bytes:
    """``nick\\0group`` (build_packet adds the final NUL)."""
    return nick.replace(b"\0", b"") + b"\0" + group.replace(b"\0", b"")


def acknowledged_number(extra: bytes) -> int | None:
    """The packet number a RECVMSG / READMSG acknowledges (its extra), or None if unreadable."""
    text = extra.split(b"\0", 1)[0].strip()
    if not text or len(text) > MAX_NUMBER_DIGITS or not text.isdigit():
        return None
    value = int(text)
    return value if value <= 0xFFFFFFFF else None


def message_text_bytes(extra: bytes) -> bytes:
    """A SENDMSG's text: its extra up to the first NUL (file attachments, if any, follow it)."""
    return extra.split(b"\0", 1)[0]
