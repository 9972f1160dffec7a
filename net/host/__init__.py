"""The host engine, written once for both transports.

- `peer`: what the engine knows of one connection (`HostPeer`), and decoding into
  entries with errors as values.
- `driver`: `RoomDriver`, the pure engine (room, outputs, bad input, timers, closing) and
  `HostIO`, the small protocol a transport implements for it.
- `loop`: `ServiceLoop`, the service thread's run skeleton.
- `lifecycle`: `ThreadedHost`, start, bind errors, stop and joining threads.
- `sources`: `AddressCounter`, the cap on connections from one address.

`net.tcp` and `net.udp` supply only their I/O around these.
"""
