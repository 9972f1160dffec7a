"""Every limit and default of file transfers, in one place (docs/PROTOCOL.md quotes them).

The receiver enforces these against what a sender offers and streams; the sender uses them
to refuse what a receiver would refuse anyway.
"""

#: Version of the transfer stream (the first field of every request).
TRANSFER_VERSION = 1

#: Entries (files and folders) one offer may hold. A folder of more is refused whole.
MAX_ENTRIES = 100_000
#: Bytes of one name component, UTF-8 encoded (what NTFS, ext4 and APFS allow).
MAX_NAME_BYTES = 255
#: Bytes of one relative path, UTF-8 encoded (Windows' long paths go to 32,767 characters).
MAX_PATH_BYTES = 4_096
#: Folder depth of one entry.
MAX_DEPTH = 64
#: Largest file (and offer) size accepted: 2**50 bytes, far beyond any disk, within JSON's
#: exact integers.
MAX_FILE_BYTES = 2**50

#: Largest control record on the stream (a request, one manifest entry, the wanted list).
MAX_RECORD_BYTES = 16 * 1024 * 1024
#: Bytes read from a file or written to the socket at once: a bounded buffer per transfer.
CHUNK_BYTES = 1024 * 1024

#: How long a granted token may wait before its first (and only) use.
TOKEN_LIFETIME = 120.0
#: Tokens one sender keeps waiting at once; the oldest are dropped beyond it.
MAX_PENDING_TOKENS = 1_000
#: Transfer connections one sender serves at once; more are closed at once.
MAX_TRANSFER_CONNECTIONS = 16
#: Seconds a transfer connection may stay silent (handshake, request, a stalled read).
TRANSFER_IDLE_TIMEOUT = 30.0
#: Offers one sender keeps open (the oldest are withdrawn beyond it).
MAX_OPEN_OFFERS = 256
#: Names shown in a chat offer (the rest are only counted).
MAX_NAMES_IN_OFFER = 20

#: Relays one host runs at once (pairs of legs it splices); more are refused at once.
MAX_RELAYS = 8
#: Relay tickets one host keeps waiting at once (the oldest are dropped beyond it).
MAX_RELAY_TICKETS = 256
#: Bytes a relay holds for one direction of one pair (read from one leg, not yet written).
RELAY_BUFFER_BYTES = 256 * 1024
#: Seconds a receiver waits for the host's relay tickets after the direct connection failed.
RELAY_WAIT = 10.0

#: Suffix of a file still being received: renamed to its real name after the hash check.
PART_SUFFIX = ".part"
#: Progress events at most this often per transfer.
PROGRESS_INTERVAL = 0.25

#: Room-wide offers up to this size are uploaded once to the host's cache and fetched
#: from there by every member (the GUI's default for accepting images unasked: 5 MiB).
CACHE_OFFER_BYTES = 5 * 1024 * 1024
#: Bytes the host's cache holds at most, on disk, uploads under way included.
CACHE_MAX_BYTES = 256 * 1024 * 1024
#: Offers the host's cache holds at most.
CACHE_MAX_OFFERS = 64
#: Seconds an offer stays in the host's cache (later accepts go to the sender).
CACHE_LIFETIME = 15 * 60.0
#: Seconds a member's fetch from the cache waits for the sender's upload to finish.
CACHE_UPLOAD_WAIT = 15.0
#: The member name a sender grants its upload to the host's cache under.
CACHE_MEMBER = "(host cache)"
