"""Issue 5 acceptance: two `main.py host` without --port on one PC (TCP and UDP) both come up,
and `main.py discover --probe 127.0.0.1` lists both."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from net.discovery import discover
from tests.cli.test_discover import ROOT, run_main
from tests.helpers import wait_until


def host_command_announces() -> bool:
    return "start_discoverable_host" in (ROOT / "cli" / "host.py").read_text(encoding="utf-8")


@pytest.mark.skipif(
    not host_command_announces(),
    reason="cli/host.py does not call start_discoverable_host yet (see hosting.py)",
)
def test_two_hosts_without_port_both_come_up_and_are_listed() -> None:
    pytest.importorskip("net.udp.host", reason="the UDP host is not built yet")
    tag = uuid.uuid4().hex[:6]
    names = {"tcp": f"Clash TCP {tag}", "udp": f"Clash UDP {tag}"}
    env = {**os.environ, "LANCHAT_LOOPBACK_ONLY": "1"}
    processes: list[subprocess.Popen] = []
    try:
        for transport, name in names.items():
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(ROOT, "main.py")),
                        "host",
                        "--transport",
                        transport,
                        "--name",
                        name,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env=env,
                    cwd=ROOT,
                )
            )
            # Start them one after the other, as two users would, each once the first is up.
            wait_until(
                lambda name=name: name in [c.info.room for c in discover(0.4)],
                timeout=15,
                interval=0.1,
                message=f"{name} announced",
            )
        result = run_main("discover", "--timeout", "1", "--probe", "127.0.0.1")
        assert result.returncode == 0, result.stderr
        found = {}
        for line in result.stdout.splitlines():
            for transport, name in names.items():
                if line.startswith(name + "  "):
                    found[transport] = line.split("  ")
        assert set(found) == {"tcp", "udp"}, result.stdout
        assert found["tcp"][2] == "tcp" and found["udp"][2] == "udp"
        assert found["tcp"][1] != found["udp"][1]  # two ports: the second host took the next free one
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
    for process in processes:
        assert process.returncode == 0, process.stderr.read().decode() if process.stderr else ""
