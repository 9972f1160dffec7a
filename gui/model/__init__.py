"""The window's chat state as plain Python: no Tk, no sockets, no threads.

`chat.ChatModel` holds one session's state and reduces batches of network events into
`changes.Changes`, which the controller shows on the views. The values that the model, the
controller and the views share (`values`, `nicks`) live here too, so imports run view →
controller → model and never back: nothing in this package imports a view or the controller.
"""
