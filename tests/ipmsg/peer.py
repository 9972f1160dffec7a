"""Hand-made IP Messenger packets, as a Feiq, IP Messenger or iptux peer would send them."""

from __future__ import annotations

import itertools

from net.ipmsg import codec as c

FEIQ_VERSION = b"1_lbt6_0#128#A1B2C3D4E5F6#0#0#0#4001#9"
_numbers = itertools.count(1_800_000_000)


def packet(command: int, extra: bytes = b"", *, number: int | None = None, version: bytes = b"1",
           user: bytes = b"peer", host: bytes = b"PEER-PC") -> bytes:  # fmt: skip
    return c.build_packet(c.Packet(version, number or next(_numbers), user, host, command, extra))


def entry(
    nick: str, group: str = "", *, encoding: str = "gbk", command: int = c.BR_ENTRY, **fields: object
) -> bytes:
    extra = nick.encode(encoding) + b"\0" + group.encode(encoding)
    return packet(command, extra, **fields)  # type: ignore[arg-type]


def feiq_entry(nick: str, group: str = "", **fields: object) -> bytes:
    return entry(nick, group, encoding="gbk", version=FEIQ_VERSION, **fields)


def iptux_entry(nick: str, group: str = "", command: int = c.BR_ENTRY, **fields: object) -> bytes:
    extra = nick.encode() + b"\0" + group.encode() + b"\0icon-tux.png\0utf-8"
    return packet(command | c.ABSENCEOPT, extra, version=b"1_iptux 0.8.3", **fields)  # type: ignore[arg-type]


def message(
    text: str, *, encoding: str = "gbk", command: int = c.SENDMSG | c.SENDCHECKOPT, **fields: object
) -> bytes:
    return packet(command, text.encode(encoding), **fields)  # type: ignore[arg-type]
