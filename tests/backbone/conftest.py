"""Fixtures for the backbone tests: a real 3-node NATS cluster, LanChat hosts on it, members."""

from __future__ import annotations

import pytest

from bench.nats_cluster import NATS_SERVER, NatsCluster


@pytest.fixture
def nats_cluster():
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian's nats-server; `make test` installs it as root)")
    cluster = NatsCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()
