"""Room logic over the protocol core: members, nicknames, routing, history, rate limits.

Pure code: the room receives decoded events for a peer and answers with instructions
(`Send`, `Broadcast`, `Disconnect`, and `Relay` for a run of messages; `net.room.outputs`)
that a transport carries out.
"""

from net.room.outputs import Broadcast, Disconnect, Output, Relay, SayRun, Send, in_runs
from net.room.room import Room, RoomConfig

__all__ = ["Broadcast", "Disconnect", "Output", "Relay", "Room", "RoomConfig", "SayRun", "Send", "in_runs"]
