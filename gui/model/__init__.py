"""The window's chat state as plain Python: no Tk, no sockets, no threads.

The values that the controller and the views share (`values`, `nicks`) live here, so
imports run view → controller → model and never back: nothing in this package imports a
view or the controller.
"""
