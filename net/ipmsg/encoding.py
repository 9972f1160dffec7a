"""Which character set to speak with each IP Messenger peer, and long messages split to fit.

The packet header does not name its encoding. The protocol's rule: UTF-8 where both sides
announce it (CAPUTF8OPT in the entry, UTF8OPT on a packet whose text is UTF-8); otherwise
the peer's system code page, which we cannot see: GBK for Chinese Windows (Feiq, IP
Messenger in China) or CP932 for Japanese Windows, chosen by a setting (`LEGACY_ENCODINGS`).
iptux says "utf-8" in the fourth part of its entry extra instead of setting the flags.

Decoding never fails: a packet flagged UTF8OPT is UTF-8; otherwise strict UTF-8 is tried
first (Chinese or Japanese text in a legacy code page is almost never valid UTF-8, while
UTF-8 text often *is* valid GBK, as garbage), then the peer's encoding, then the peer's
encoding with replacement characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from net.ipmsg.codec import CAPUTF8OPT, UTF8OPT, EntryExtra

UTF8 = "utf-8"
#: The legacy code pages a user can choose for peers that do not announce UTF-8.
LEGACY_ENCODINGS = ("gbk", "cp932")
DEFAULT_LEGACY_ENCODING = "gbk"


def check_legacy_encoding(name: str) -> str:
    """The setting's value, normalised; ValueError for an encoding we do not offer."""
    name = name.strip().lower()
    if name not in LEGACY_ENCODINGS:
        raise ValueError(f"{name!r} is not one of {', '.join(LEGACY_ENCODINGS)}")
    return name


def peer_encoding(command: int, entry: EntryExtra | None, legacy: str) -> str:
    """The encoding to use with a peer, from what its entry packet announced."""
    if command & (CAPUTF8OPT | UTF8OPT):
        return UTF8
    if entry is not None and entry.encoding.strip().lower() in (b"utf-8", b"utf8"):
        return UTF8
    return legacy


def decode_text(data: bytes, command: int, encoding: str) -> str:
    """Text from a peer: by the UTF8OPT flag, else UTF-8 if valid, else the peer's encoding."""
    if command & UTF8OPT:
        return data.decode(UTF8, "replace")
    for candidate in (UTF8, encoding):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode(encoding, "replace")


def encode_text(text: str, encoding: str) -> bytes:
    """Text for a peer; characters its code page lacks become '?' (the best a GBK peer can show)."""
    return text.replace("\0", "").encode(encoding, "replace")


@dataclass(frozen=True, slots=True)
class Piece:
    """One datagram's worth of a long message: its text and its encoded bytes."""

    text: str
    data: bytes


def split_text(text: str, encoding: str, budget: int) -> list[Piece]:
    """Cut `text` into pieces whose encoding is at most `budget` bytes, never inside a character.

    IP Messenger clients read one SENDMSG as one whole message and cut what does not fit
    their buffer silently; so a long message is sent as several messages in order, each
    acknowledged on its own, rather than one datagram that would be truncated. Cuts prefer
    the last line break, then the last space, in the second half of a piece.
    """
    if budget < 8:
        raise ValueError("the budget must leave room for at least one character")
    pieces: list[Piece] = []
    rest = text
    while rest:
        data = encode_text(rest, encoding)
        if len(data) <= budget:
            pieces.append(Piece(rest, data))
            break
        cut = _longest_prefix(rest, encoding, budget)
        for separator in ("\n", " "):
            position = rest.rfind(separator, cut // 2, cut)
            if position > 0:
                cut = position + 1
                break
        piece = rest[:cut]
        pieces.append(Piece(piece, encode_text(piece, encoding)))
        rest = rest[cut:]
    return pieces


def _longest_prefix(text: str, encoding: str, budget: int) -> int:
    """The largest n such that text[:n] encodes within budget (binary search, n >= 1)."""
    low, high = 1, min(len(text), budget)
    while low < high:
        middle = (low + high + 1) // 2
        if len(encode_text(text[:middle], encoding)) <= budget:
            low = middle
        else:
            high = middle - 1
    return low
