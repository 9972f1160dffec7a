"""LanChat networking: a pure protocol core, room logic over it, and thin socket shells.

Nothing in this package imports Tk; the GUI consumes it through events on a queue.
"""

__version__ = "0.1.0"
