"""Connections per source address: the cap both transports apply, tested without sockets."""

from __future__ import annotations

import logging

from net.addresses import format_sockaddr, sockaddr_host
from net.host.sources import AddressCounter


def test_an_address_gets_up_to_its_cap_and_a_place_back_when_one_closes() -> None:
    counter = AddressCounter(limit=3)
    ours = [("10.0.0.9", port) for port in range(1000, 1005)]
    assert [counter.add(address) for address in ours] == [True, True, True, False, False]
    assert counter.count(("10.0.0.9", 1)) == 3  # the port does not matter
    assert counter.add(("10.0.0.7", 1000))  # another address is not affected
    counter.remove(ours[0])
    assert counter.add(ours[3]) and not counter.add(ours[4])


def test_an_address_is_forgotten_when_its_last_connection_closes() -> None:
    counter = AddressCounter(limit=2)
    for port in range(500):
        address = (f"10.0.{port // 256}.{port % 256}", port)
        assert counter.add(address)
        counter.remove(address)
    assert len(counter) == 0


def test_ipv4_over_a_dual_stack_socket_is_the_same_address() -> None:
    counter = AddressCounter(limit=1)
    assert counter.add(("192.168.1.5", 40000))
    assert not counter.add(("::ffff:192.168.1.5", 40001, 0, 0))
    assert sockaddr_host(("::ffff:192.168.1.5", 1, 0, 0)) == "192.168.1.5"
    assert sockaddr_host(("fe80::1%eth0", 1, 0, 2)) == "fe80::1%eth0"
    assert format_sockaddr(("::ffff:192.168.1.5", 7, 0, 0)) == "192.168.1.5:7"


def test_a_limit_of_zero_is_no_cap() -> None:
    counter = AddressCounter(limit=0)
    assert all(counter.add(("10.0.0.9", port)) for port in range(10_000))
    assert len(counter) == 0  # nothing to count


def test_only_the_first_refusal_of_a_flood_is_worth_a_warning() -> None:
    counter = AddressCounter(limit=1)
    counter.add(("10.0.0.9", 1))
    levels = [counter.turned_away(("10.0.0.9", port))[0] for port in range(2, 5)]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert counter.turned_away(("10.0.0.9", 7)) == (
        logging.DEBUG,
        "turning away 10.0.0.9:7: 1 connections from that address are open already",
    )
    assert counter.turned_away(("10.0.0.7", 1))[0] == logging.WARNING
    counter.remove(("10.0.0.9", 1))  # its connections all closed: a new flood is news again
    counter.add(("10.0.0.9", 1))
    assert counter.turned_away(("10.0.0.9", 9))[0] == logging.WARNING
