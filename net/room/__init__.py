"""Room logic over the protocol core: members, nicknames, routing, history, rate limits.

Pure code: the room receives decoded events for a peer and answers with instructions
(`Send`, `Broadcast`, `Disconnect`, and `Relay` for a run of messages) that a transport carries out.
"""

from net.room.room import Broadcast, Disconnect, Output, Relay, Room, RoomConfig, Send, in_runs

__all__ = ["Broadcast", "Disconnect", "Output", "Relay", "Room", "RoomConfig", "Send", "in_runs"]
