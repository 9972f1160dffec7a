"""Talking with IP Messenger, Feiq (飞秋) and iptux users on the LAN (UDP port 2425).

Pure parts (no sockets): `codec` (packets), `encoding` (UTF-8 / GBK / CP932, long messages
split), `peers` (the user list), `guard` (rate limits, no amplification), `outbox` (resends
until acknowledged), `engine` (the protocol's state machine). Threaded shell: `bridge`
(`IpmsgBridge`, one UDP socket and one thread). See "IP Messenger bridge" in docs/PROTOCOL.md.
"""
