"""IP Messenger file attachments, parsed and built: the list in a SENDMSG, the TCP requests,
and the headers of a folder's stream. No I/O.

A SENDMSG with FILEATTACHOPT carries, after its text and a NUL, one entry per file::

    fileID:name:size:mtime:fileattr[:ext=val...]:\\a

`fileID` is decimal, `size`, `mtime` and `fileattr` are hexadecimal, a ':' inside the name
is written '::', and entries are separated by BEL (``\\a``), which clients write as ``:\\a``,
``\\a:`` or ``:\\a:``: all are read. The receiver asks for the data over TCP, to the port
the offer came from, with a packet whose extra is ``packetNo:fileID:offset`` (all hex;
GETFILEDATA, the file's bytes from `offset` on come back raw) or ``packetNo:fileID``
(GETDIRFILES, for a folder). A folder comes as a stream of entries, each a header::

    headerSize:name:size:fileattr[:ext=val...]:

(`headerSize`, hex, counts the whole header up to and including its last ':') followed, for
a file, by its `size` bytes. A folder entry opens that folder, a RETPARENT entry (name
``.``) closes it; the stream ends when the first folder is closed.

Everything from the network is bounded here: `MAX_ATTACHMENTS` entries, names as
`net.files.names` allows them (one component, no '..', no control characters, no reserved
Windows names), sizes up to `MAX_FILE_BYTES`, headers up to `MAX_HEADER_BYTES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from net.files.limits import MAX_FILE_BYTES
from net.files.names import UnsafeName, check_component
from net.ipmsg import codec as c
from net.ipmsg.encoding import decode_text, encode_text

#: Entries read from (or written into) one offer; more are ignored (or refused).
MAX_ATTACHMENTS = 100
#: A folder stream's header is at most this long (iptux's buffer, MAX_SOCKLEN).
MAX_HEADER_BYTES = 8192
#: Digits of a hexadecimal number on the wire (a 64-bit size).
MAX_HEX_DIGITS = 16
SEPARATOR = b"\a"


@dataclass(frozen=True, slots=True)
class Attachment:
    """One file or folder offered. `name` has been checked: a single safe component."""

    file_id: int
    name: str
    size: int
    mtime: int = 0
    attr: int = c.FILE_REGULAR

    @property
    def kind(self) -> int:
        return self.attr & c.MODE_MASK

    @property
    def is_dir(self) -> bool:
        return self.kind == c.FILE_DIR


def split_fields(data: bytes) -> list[bytes]:
    """Split on ':' where '::' stands for a ':' inside a field (IP Messenger's escape)."""
    fields: list[bytes] = []
    current = bytearray()
    index = 0
    while index < len(data):
        byte = data[index]
        if byte == 0x3A:
            if index + 1 < len(data) and data[index + 1] == 0x3A:
                current.append(0x3A)
                index += 2
                continue
            fields.append(bytes(current))
            current = bytearray()
        else:
            current.append(byte)
        index += 1
    fields.append(bytes(current))
    return fields


def escape_name(name: bytes) -> bytes:
    return name.replace(b":", b"::")


def hex_number(field: bytes, what: str, limit: int = MAX_FILE_BYTES) -> int:
    """A hexadecimal field, bounded; IpmsgFormatError otherwise."""
    text = field.strip()
    if not text or len(text) > MAX_HEX_DIGITS or text.strip(b"0123456789abcdefABCDEF"):
        raise c.IpmsgFormatError(f"the {what} is not a hexadecimal number")
    try:
        value = int(text, 16)
    except ValueError:
        raise c.IpmsgFormatError(f"the {what} is not a hexadecimal number") from None
    if value < 0 or value > limit:
        raise c.IpmsgFormatError(f"the {what} is out of range")
    return value


def safe_name(raw: bytes, command: int, encoding: str) -> str:
    """A received name as text, if it is one safe component; IpmsgFormatError otherwise."""
    name = decode_text(raw, command, encoding)
    if "/" in name:
        raise c.IpmsgFormatError(f"the name {name[:80]!r} is a path, not one name")
    try:
        return check_component(name)
    except UnsafeName as exc:
        raise c.IpmsgFormatError(str(exc)) from None


def parse_attachments(extra: bytes, command: int, encoding: str) -> tuple[list[Attachment], int]:
    """The attachments of a SENDMSG's extra (the part after its text's NUL), and how many
    entries were refused (malformed, unsafe name, a kind we do not take, duplicate id)."""
    parts = extra.split(b"\0", 1)
    listing = parts[1] if len(parts) == 2 else b""
    found: list[Attachment] = []
    refused = 0
    ids: set[int] = set()
    for entry in listing.split(SEPARATOR):
        entry = entry.strip(b"\0")
        if entry.startswith(b":"):
            entry = entry[1:]
        if not entry.strip():
            continue
        if len(found) >= MAX_ATTACHMENTS:
            refused += 1
            continue
        try:
            attachment = _parse_entry(entry, command, encoding)
        except c.IpmsgFormatError:
            refused += 1
            continue
        if attachment.file_id in ids or attachment.kind not in (c.FILE_REGULAR, c.FILE_DIR):
            refused += 1
            continue
        ids.add(attachment.file_id)
        found.append(attachment)
    return found, refused


def _parse_entry(entry: bytes, command: int, encoding: str) -> Attachment:
    fields = split_fields(entry)
    if len(fields) < 5:
        raise c.IpmsgFormatError("an attachment has fewer than five fields")
    number = fields[0].strip()
    if not number.isdigit() or len(number) > c.MAX_NUMBER_DIGITS or int(number) > 0xFFFFFFFF:
        raise c.IpmsgFormatError("the file id is not a decimal number")
    return Attachment(
        file_id=int(number),
        name=safe_name(fields[1], command, encoding),
        size=hex_number(fields[2], "size"),
        mtime=hex_number(fields[3], "time", 0xFFFFFFFFFFFFFFFF),
        attr=hex_number(fields[4], "file attribute", 0xFFFFFFFF),
    )


def build_attachments(attachments: list[Attachment], encoding: str) -> bytes:
    """The list for a SENDMSG's extra (after the text and its NUL), in `encoding`."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValueError(f"more than {MAX_ATTACHMENTS} files in one offer")
    out = bytearray()
    for item in attachments:
        name = escape_name(encode_text(item.name, encoding))
        out += b"%d:%s:%x:%x:%x:\a" % (item.file_id, name, item.size, item.mtime, item.attr)
    return bytes(out)


# --- the TCP requests -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileRequest:
    """What a GETFILEDATA / GETDIRFILES asks for: the offer's packet number, a file, an offset."""

    packet_no: int
    file_id: int
    offset: int = 0


def parse_file_request(extra: bytes) -> FileRequest:
    """``packetNo:fileID[:offset]`` (hex); IpmsgFormatError when unreadable."""
    fields = extra.split(b"\0", 1)[0].split(b":")
    if len(fields) < 2:
        raise c.IpmsgFormatError("a file request has fewer than two fields")
    offset = hex_number(fields[2], "offset") if len(fields) > 2 and fields[2].strip() else 0
    return FileRequest(
        hex_number(fields[0], "packet number", 0xFFFFFFFF),
        hex_number(fields[1], "file id", 0xFFFFFFFF),
        offset,
    )


def build_file_request(request: FileRequest, folder: bool) -> bytes:
    if folder:
        return b"%x:%x:0" % (request.packet_no, request.file_id)  # iptux adds ':0' too
    return b"%x:%x:%x" % (request.packet_no, request.file_id, request.offset)


# --- a folder's stream --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One header of a GETDIRFILES stream (the file's bytes follow a FILE_REGULAR one)."""

    name: str  # checked, except for RETPARENT's "."
    size: int
    attr: int

    @property
    def kind(self) -> int:
        return self.attr & c.MODE_MASK


def header_length(prefix: bytes) -> int | None:
    """The header size a stream's next bytes announce, None while its first ':' has not come;
    IpmsgFormatError when it is not a sane number."""
    colon = prefix.find(b":")
    if colon < 0:
        if len(prefix) > MAX_HEX_DIGITS:
            raise c.IpmsgFormatError("a folder header does not start with its size")
        return None
    size = hex_number(prefix[:colon], "header size", MAX_HEADER_BYTES)
    if size <= colon + 1:
        raise c.IpmsgFormatError("a folder header is shorter than its own size field")
    return size


def parse_dir_header(header: bytes, command: int, encoding: str) -> DirEntry:
    """One whole header (as `header_length` measured it)."""
    fields = split_fields(header)
    if len(fields) < 4:
        raise c.IpmsgFormatError("a folder header has fewer than four fields")
    attr = hex_number(fields[3], "file attribute", 0xFFFFFFFF)
    size = hex_number(fields[2], "size")
    if attr & c.MODE_MASK == c.FILE_RETPARENT:
        return DirEntry(".", 0, attr)
    return DirEntry(safe_name(fields[1], command, encoding), size, attr)


def build_dir_header(name: str, size: int, attr: int, mtime: int, encoding: str) -> bytes:
    """A header with its 4-digit size (as iptux writes it)."""
    raw = b"." if attr & c.MODE_MASK == c.FILE_RETPARENT else escape_name(encode_text(name, encoding))
    rest = b":%s:%x:%x:%x=%x:" % (raw, size, attr, c.FILE_MTIME, mtime)
    total = 4 + len(rest)
    if total > MAX_HEADER_BYTES:
        raise ValueError("a name too long for a folder header")
    return b"%04x" % total + rest
