"""Room logic over the protocol core: members, nicknames, routing, history, rate limits.

Pure code: the room receives decoded events for a peer and answers with instructions
(`Send`, `Broadcast`, `Disconnect`) that a transport carries out.
"""

from net.room.room import Broadcast, Disconnect, Output, Room, RoomConfig, Send

__all__ = ["Broadcast", "Disconnect", "Output", "Room", "RoomConfig", "Send"]
