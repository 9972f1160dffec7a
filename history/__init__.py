"""The conversations kept on this computer: one SQLite database, written by one thread.

No Tk and no sockets here, so that the window, the command line, the benchmark and (later)
the host all use the same storage: `database` opens the file (and refuses, with a reason a
user can read, when it cannot), `writer` is the one thread that writes, `store` says what a
conversation and a message are in SQL, `export` turns a conversation into a file for people.
"""
