"""Workload "history" (issue 17): the history database at the size of years of chatting.

Generates a database of `messages` messages across `conversations` conversations (one
transaction of `executemany`, then one rebuild of the full-text indexes: seconds, not the
hours that a message at a time would take), then measures what a user waits for:
- opening a conversation: its last 200 messages (`store.page`), a fresh connection per
  conversation, several conversations;
- a search returning its first 50 results, in English and in Chinese, a word of three
  characters or more (the trigram index) and words of two (`你好`, `你好 会议`: the pair
  index of `history/bigrams.py`);
- sustained writes through the real writer thread (`HistoryWriter`) into the big database,
  to compare with the fastest stream of messages one member receives in the fan-out
  workload (deliveries per second / members): history must never be the bottleneck (the
  writer keeps a burst first and indexes it for search when idle: both rates are shown);
- the host's journal: a fan-out through the host as everybody runs it (journal on) against
  the same host without it, in the same run;
- the file's size per message.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.report import Run, Target, find
from history import store
from history.database import HistoryDatabase, rebuild_bigrams
from history.writer import HistoryWriter

ENGLISH = [
    "lunch",
    "meeting",
    "today",
    "tomorrow",
    "printer",
    "report",
    "budget",
    "coffee",
    "server",
    "update",
    "please",
    "thanks",
    "release",
    "build",
    "review",
    "office",
    "network",
    "password",
    "holiday",
    "project",
    "deadline",
    "customer",
    "invoice",
]
CHINESE = list("你好我们今天明天会议午饭打印机报告预算咖啡服务器更新请谢谢发布审核办公室网络项目客户发票")
#: What people type: English and Chinese, a word for the trigram index (3 characters or
#: more) and words of two (the pair index); the last finds nothing (no message mixes both
#: languages), the worst case, reported beside the target, which is about the first 50 results.
SEARCHES = ("printer", "budget deadline", "你好", "打印机", "你好 会议", "invoice 会议")
OPEN_SAMPLES = 30
WRITE_BURST = 50_000


def _body(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(rng.choices(ENGLISH, k=rng.randint(4, 14)))
    return "".join(rng.choices(CHINESE, k=rng.randint(6, 30)))


def generate(database: HistoryDatabase, messages: int, conversations: int, seed: int = 17) -> float:
    """Fill `database` with `messages` messages in `conversations` rooms; returns the seconds."""
    rng = random.Random(seed)
    started = time.perf_counter()
    connection = database.connect()
    try:
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO conversations (id, key, title, last_time) VALUES (?, ?, ?, ?)",
            [
                (c, store.room_key(f"ROOM-{c:04d}"), f"Room {c}", 1e9 + messages)
                for c in range(1, conversations + 1)
            ],
        )
        rows = (
            (rng.randint(1, conversations), f"g{n}", 1e9 + n, f"user{n % 37}", _body(rng), n % 5 == 0, 0)
            for n in range(messages)
        )
        connection.executemany(
            "INSERT INTO messages (conversation, message_id, time, sender, body, own, action)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        if database.fts:
            connection.execute("INSERT INTO messages_fts(messages_fts) VALUES('rebuild')")
            rebuild_bigrams(connection)
            store.set_indexed_upto(connection, messages)  # every generated row is indexed now
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("ANALYZE")
    finally:
        connection.close()
    return time.perf_counter() - started


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def run_history(messages: int, conversations: int, write_burst: int = WRITE_BURST) -> Run:
    with tempfile.TemporaryDirectory(prefix="lanchat-bench-history-") as folder:
        path = Path(folder) / "history.sqlite3"
        database = HistoryDatabase.open(path)
        try:
            generated = generate(database, messages, conversations)
            size = path.stat().st_size
            rng = random.Random(1)
            opens = []
            for _ in range(OPEN_SAMPLES):
                key = store.room_key(f"ROOM-{rng.randint(1, conversations):04d}")
                started = time.perf_counter()
                connection = database.connect()
                shown = store.page(connection, key, limit=200)
                opens.append(time.perf_counter() - started)
                connection.close()
                assert len(shown) == min(200, messages // conversations) or shown
            searches = {}
            connection = database.connect()
            for words in SEARCHES:
                started = time.perf_counter()
                hits = store.search(connection, words, database.fts, limit=50)
                searches[words] = {"ms": _ms(time.perf_counter() - started), "results": len(hits)}
            connection.close()
            writes_per_s, indexed_per_s = _sustained_writes(database, write_burst)
        finally:
            database.close()
    return {
        "workload": "history",
        "messages": messages,
        "conversations": conversations,
        "fts": database.fts,
        "generate_s": round(generated, 1),
        "open_p50_ms": _ms(statistics.median(opens)),
        "open_max_ms": _ms(max(opens)),
        "search_max_ms": max((s["ms"] for s in searches.values() if s["results"]), default=0.0),
        "search_no_match_ms": max((s["ms"] for s in searches.values() if not s["results"]), default=None),
        "searches": searches,
        "writes_per_s": round(writes_per_s),
        "indexed_per_s": round(indexed_per_s),
        "bytes_per_message": round(size / messages),
    }


def _sustained_writes(database: HistoryDatabase, count: int) -> tuple[float, float]:
    """Messages per second through the writer thread in a burst: submission to kept
    (committed), and submission to indexed for search (the writer indexes when idle)."""
    rng = random.Random(2)
    burst = [
        store.NewMessage(store.room_key(f"ROOM-{n % 7:04d}"), "Busy", f"w{n}", 2e9 + n, "ann", _body(rng))
        for n in range(count)
    ]
    writer = HistoryWriter(database, capacity=count + 1)
    writer.start()
    try:
        started = time.perf_counter()
        last = 0
        for start in range(0, count, 100):  # as the window hands them over: a batch of events at a time
            last = writer.append_many(burst[start : start + 100]) or last
        if not writer.wait_durable(last, 120):
            raise RuntimeError("the writer did not finish the burst in 120 s")
        kept = count / (time.perf_counter() - started)
        if not writer.wait_indexed(300):
            raise RuntimeError("the writer did not index the burst in 300 s")
        return kept, count / (time.perf_counter() - started)
    finally:
        writer.stop()


def fastest_member_stream(runs: list[Run]) -> tuple[float, str] | None:
    """The most messages per second one member received in this run's fan-out, and where."""
    best = None
    for run in runs:
        fanout = run.get("workload") in ("fanout", "journal-fanout")
        if fanout and "error" not in run and run.get("deliveries_per_s"):
            rate = run["deliveries_per_s"] / run["members"]
            if best is None or rate > best[0]:
                best = (rate, f"{run['relay']} C={run['members']}")
    return best


def _journal_cost(runs: list[Run]) -> Target:
    """The host's journal (every room message written before its ack) against the same host
    without it, in the same run: the fan-out must hold (≥ 0.9 × the deliveries a second)."""
    by_relay = {r["relay"]: r for r in runs if r.get("workload") == "journal-fanout" and "error" not in r}
    kept, memory = by_relay.get("native-tls"), by_relay.get("native-tls-memory")
    name = "history: host fan-out with its journal"
    if kept is None or memory is None:
        return Target(name, "≥ 0.9 × without", "not measured", None)
    ratio = kept["deliveries_per_s"] / memory["deliveries_per_s"]
    figures = f"{kept['deliveries_per_s']:,}/s vs {memory['deliveries_per_s']:,}/s"
    figures += f" ({ratio:.2f} ×, C={kept['members']})"
    return Target(name, "≥ 0.9 × without", figures, ratio >= 0.9)


def history_targets(runs: list[Run]) -> list[Target]:
    run = find(runs, "history")
    if run is None:
        names = ("open a conversation", "search, first 50", "history writes vs fan-out", "size per message")
        return [Target(f"history: {name}", "", "not measured", None) for name in names]
    size = f"{run['messages']:,} messages, {run['conversations']:,} conversations"
    stream = fastest_member_stream(runs)
    if stream is None:
        writes = Target(
            "history: sustained writes",
            "≥ fastest member stream of fan-out",
            f"{run['writes_per_s']:,}/s (no fan-out in this run to compare)",
            None,
        )
    else:
        writes = Target(
            "history: sustained writes",
            "≥ fastest member stream of fan-out",
            f"{run['writes_per_s']:,}/s vs {stream[0]:,.0f}/s ({stream[1]})",
            run["writes_per_s"] >= stream[0],
        )
    return [
        _journal_cost(runs),
        Target(
            f"history: open a conversation (last 200; {size})",
            "≤ 50 ms",
            f"max {run['open_max_ms']} ms, p50 {run['open_p50_ms']} ms",
            run["open_max_ms"] <= 50,
        ),
        Target(
            "history: search, first 50 results",
            "≤ 200 ms",
            f"max {run['search_max_ms']} ms of {len(run['searches'])} searches"
            + ("" if run["fts"] else " (no FTS5)"),
            run["search_max_ms"] <= 200,
        ),
        writes,
        Target(
            "history: a burst indexed for search",
            "(reported)",
            f"{run['indexed_per_s']:,}/s (search reads what waits meanwhile)",
            None,
        ),
        Target("history: database size per message", "(reported)", f"{run['bytes_per_message']} bytes", None),
    ]
