"""The UDP transport: the same chat over UDP, made reliable by a pure channel layer.

`wire` (datagram format), `rtt`, `sender`, `receiver` and `channel` are pure code (no
sockets, threads or clocks); `host` and `client` are thin threaded shells around them,
the same `Room` and the same `ClientSession` as the TCP transport.
"""
