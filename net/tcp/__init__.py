"""The TCP transport: a thin threaded shell around the protocol and room cores.

`host.TcpHost` serves a room (accept thread, a reader per connection, one router thread);
`client.TcpClient` is the member's side.
"""
