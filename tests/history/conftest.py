"""Fixtures shared by the history tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from history.database import HistoryDatabase
from history.writer import HistoryWriter


@pytest.fixture
def kept(tmp_path: Path) -> Iterator[tuple[HistoryDatabase, HistoryWriter]]:
    """A new history database in a temporary folder with its writer running; both closed after."""
    database = HistoryDatabase.open(tmp_path / "history.sqlite3")
    writer = HistoryWriter(database)
    writer.start()
    yield database, writer
    writer.stop()
    database.close()
