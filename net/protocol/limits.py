"""Every limit of the wire protocol, in one place.

The host enforces these against remote input; clients use them to refuse what the host
would refuse anyway. `docs/PROTOCOL.md` quotes the same numbers.
"""

PROTOCOL_VERSION = 2
DEFAULT_PORT = 47800

#: Largest encoded frame (one JSON line, newline excluded). 16 Ki characters of 4-byte
#: UTF-8 text fit with room to spare for the envelope and JSON escapes.
MAX_FRAME_BYTES = 256 * 1024
#: Longest message text, counted in Unicode code points.
MAX_TEXT_CHARS = 16 * 1024
MAX_NICK_CHARS = 24
MAX_ROOM_NAME_CHARS = 48
MAX_ID_CHARS = 64
MAX_REASON_CHARS = 300
MAX_PASSWORD_CHARS = 128
MAX_MEMBERS_IN_LIST = 10_000
MAX_HISTORY_IN_WELCOME = 1_000
#: Kept private messages in one `mail` frame, and ids in one `got` (a member with more
#: waiting gets several frames).
MAX_MAIL_IN_FRAME = 100

#: Room defaults (configurable per host).
DEFAULT_HISTORY_SIZE = 200
DEFAULT_MAX_MEMBERS = 1_000
DEFAULT_RATE_PER_SECOND = 20.0
DEFAULT_RATE_BURST = 60
#: The members connected from one address share a budget this many times one member's (rate
#: and burst), on top of each one's own: a few windows on one PC or a small office behind NAT
#: chat freely, twenty connections from one address no longer send twenty members' worth.
DEFAULT_ADDRESS_RATE_MULTIPLE = 4.0
#: Connections one address may hold open (members and connections still saying hello): a
#: PC with a few windows, or a small office behind one NAT address, each connection
#: briefly doubled while a dropped one reconnects. One address cannot fill the room.
DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 32
#: Messages refused by the rate limit within one window before the member is disconnected.
FLOOD_STRIKES = 500
FLOOD_WINDOW_SECONDS = 10.0

#: Heartbeat: a peer sends ping after this much silence and is dropped after the timeout.
DEFAULT_HEARTBEAT_INTERVAL = 10.0
DEFAULT_HEARTBEAT_TIMEOUT = 30.0
DEFAULT_HANDSHAKE_TIMEOUT = 10.0

#: Encoded bytes of history replayed in one welcome frame (newest first until it is full),
#: so that a welcome always fits in a frame even when the history holds huge messages.
WELCOME_HISTORY_BUDGET = 160 * 1024

#: Private messages the host keeps for members who are away: per member, in all, and for
#: how long (a week: back from a long weekend). A member's departure is remembered as long,
#: for at most `MAX_AWAY_MEMBERS` members.
DEFAULT_MAIL_PER_MEMBER = 100
DEFAULT_MAIL_TOTAL = 5_000
DEFAULT_MAIL_EXPIRY_SECONDS = 7 * 24 * 3600.0
MAX_AWAY_MEMBERS = 5_000
#: Encoded bytes of kept messages in one `mail` frame (like the welcome's history budget).
MAIL_FRAME_BUDGET = 160 * 1024
