"""The TCP transport: a thin threaded shell around the protocol and room cores.

`host.TcpHost` serves a room (an accept thread and one router thread that reads and writes every
connection);
`client.TcpClient` is the member's side.
"""
