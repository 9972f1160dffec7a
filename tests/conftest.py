"""Fixtures for the whole suite.

Every test fails if an ERROR was logged during it (Porcupine's rule): a swallowed
exception in a thread or a Tk callback must not pass unnoticed. Tests that expect an
error log can opt out with ``@pytest.mark.allow_error_logs``.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("LANCHAT_LOOPBACK_ONLY", "1")
# Windows under test never take UDP port 2425 (IP Messenger): tests that want the bridge set a port.
os.environ.setdefault("LANCHAT_IPMSG_PORT", "off")

# Property tests judge inputs, not speed: on a shared 2-core machine a busy moment made
# Hypothesis fail a test with "input generation is slow" (too_slow) or a missed deadline.
settings.register_profile("lanchat", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lanchat")


class _ErrorCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_session_dirs: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_error_logs: the test expects ERROR log records")
    # Settings and log files of everything the tests start (also subprocesses) go to a
    # throw-away folder, never to the real user's config and log directories.
    for variable in ("LANCHAT_CONFIG_DIR", "LANCHAT_LOG_DIR", "LANCHAT_DATA_DIR"):
        if variable not in os.environ:
            folder = tempfile.mkdtemp(prefix=f"lanchat-test-{variable.split('_')[1].lower()}-")
            _session_dirs.append(folder)
            os.environ[variable] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _session_dirs:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def fail_on_error_logs(request: pytest.FixtureRequest):
    collector = _ErrorCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    previous_hook = threading.excepthook
    thread_errors: list[str] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        thread_errors.append(
            f"{args.thread.name if args.thread else '?'}: {args.exc_type.__name__}: {args.exc_value}"
        )
        previous_hook(args)

    threading.excepthook = hook
    try:
        yield collector
    finally:
        threading.excepthook = previous_hook
        root.removeHandler(collector)
    if request.node.get_closest_marker("allow_error_logs"):
        return
    problems = [f"{r.name}: {r.getMessage()}" for r in collector.records] + thread_errors
    if problems:
        pytest.fail("errors were logged during the test:\n" + "\n".join(problems))
