"""`main.py host --ipmsg`: the window-less host enters IP Messenger, logs its users, answers once."""

from __future__ import annotations

import signal
import socket
import sys

import pytest

from net.ipmsg import codec as c
from tests.cli.test_host import run_host  # noqa: F401  (the fixture)
from tests.ipmsg import peer as make
from tests.ipmsg.rawpeer import mode, raw_peer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_host_lists_ip_messenger_users_and_answers_their_message(run_host) -> None:  # noqa: F811
    ipmsg_port = free_udp_port()
    host = run_host(
        "--port", "0", "--bind", "127.0.0.1", "--name", "茶水间", "--ipmsg", "--ipmsg-port", str(ipmsg_port)
    )
    host.wait_for_line(rf"On IP Messenger / Feiq / iptux as “茶水间” \(UDP port {ipmsg_port}\)")
    with raw_peer() as peer:
        # As if answering the host's BR_ENTRY broadcast (which went to 127.0.0.1:ipmsg_port only).
        peer.send(make.feiq_entry("张三", "研发部", command=c.ANSENTRY, host=b"ZHANG-PC"), ipmsg_port)
        host.wait_for_line(
            r"IP Messenger user here: 张三 \[group 研发部, computer ZHANG-PC, 127\.0\.0\.1:\d+"
        )
        peer.send(make.message("秘密的内容", number=99), ipmsg_port)
        ack = peer.expect(mode(c.RECVMSG))
        assert c.acknowledged_number(ack.extra) == 99
        answer = peer.expect(mode(c.SENDMSG))
        text = c.message_text_bytes(answer.extra).decode("gbk")
        assert "茶水间" in text and "lanchat://127.0.0.1:" in text
        host.wait_for_line(r"IP Messenger message from 张三 \(127\.0\.0\.1:\d+\): 5 characters")
        host.proc.send_signal(signal.SIGTERM)
        peer.expect(mode(c.BR_EXIT))
    status, _stderr = host.finish()
    assert status == 0
    assert not any("秘密" in line for line in host.stdout)  # message text never goes to the log
