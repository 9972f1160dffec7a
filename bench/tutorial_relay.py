"""The chat server a beginner writes from a sockets tutorial: a peer for the benchmarks.

One thread per client; each thread calls ``recv(1024)`` and hands whatever came back
to every other client with ``sendall``. It is kept as written on purpose: no framing (a
chunk may end mid-line, so two senders' chunks can interleave inside one receiver's line:
"spliced" fragments), no TCP_NODELAY (small writes wait for delayed acks), no bounds.
Only the list copy under a lock is added, so that the benchmark measures the design and
not a crash on a list changing size during iteration.

Run: ``python -m bench.tutorial_relay --port P`` (listens on 127.0.0.1 only).
"""

from __future__ import annotations

import argparse
import socket
import threading

clients: list[socket.socket] = []
clients_lock = threading.Lock()


def handle(conn: socket.socket) -> None:
    while True:
        try:
            data = conn.recv(1024)
        except OSError:
            break
        if not data:
            break
        with clients_lock:
            others = [client for client in clients if client is not conn]
        for client in others:
            try:
                client.sendall(data)
            except OSError:
                pass
    with clients_lock:
        clients.remove(conn)
    conn.close()


def serve(port: int) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen()
    while True:
        conn, _ = server.accept()
        with clients_lock:
            clients.append(conn)
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description="the tutorial broadcast relay (benchmark peer)")
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
