"""File transfers: offers over the chat, file bytes over their own TLS stream.

`limits` holds every number; `names` judges received names; `manifest` describes what is
offered; `stream` is the sans-I/O stream codec; `receiver` and `sender` are the two ends'
file work; `tokens` the one-time grants; `server` and `fetch` the threaded shells; and
`transfers` ties them to a chat client. See docs/PROTOCOL.md, "File transfers".
"""
