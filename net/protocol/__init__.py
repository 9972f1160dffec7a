"""The sans-I/O protocol core: bytes in, events out; events in, bytes out.

No sockets, no threads, no clocks: transports feed received bytes in and write out what
`send()` returns, which keeps every rule of the wire format testable without a network.
"""

from net.protocol.connection import Connection, ConnectionState, NeedData, Role
from net.protocol.errors import DecodeError, LocalProtocolError, ProtocolError, RemoteProtocolError
from net.protocol.events import *  # noqa: F403  (the event classes are the public vocabulary)
from net.protocol.events import __all__ as _event_names

__all__ = [
    "Connection",
    "ConnectionState",
    "DecodeError",
    "LocalProtocolError",
    "NeedData",
    "ProtocolError",
    "RemoteProtocolError",
    "Role",
    *_event_names,
]
