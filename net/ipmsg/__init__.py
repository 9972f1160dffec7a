"""Talking with IP Messenger, Feiq (飞秋) and iptux users on the LAN (UDP port 2425).

Pure parts (no sockets): `codec` (packets), `encoding` (UTF-8 / GBK / CP932, long messages
split), `peers` (the user list), `guard` (rate limits, no amplification), `outbox` (resends
until acknowledged), `engine` (the protocol's state machine), `attachments` (file lists,
requests, folder streams), `offers` (what we offered, to whom). Threaded shell: `bridge`
(`IpmsgBridge`, one UDP socket and one thread), with `fileserve` (serving our offers over
TCP) and `fetch` (receiving theirs), sharing `streams`. See "IP Messenger bridge" in docs/PROTOCOL.md.
"""
