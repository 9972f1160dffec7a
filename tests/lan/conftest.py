"""Fixtures for the virtual-LAN tests: `make_lan(n)` builds n PCs, `lan` builds three.

The tests are skipped, with the reason shown by `pytest -rs`, when the machine cannot create
network namespaces (not root, no iproute2, not permitted). At the end of the session the
fixture checks that this run left no namespace behind and that `ip link` in the root namespace
is exactly as it was before, and fails loudly otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from bench.nats_cluster import NATS_SERVER, NatsCluster
from tests.lan import virtual_lan as vlan
from tests.lan.two_sites import TwoSites

_support_problem: list[str | None] = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"lan_report_{report.when}", report)
    return report


def _session_support_problem() -> str | None:
    if not _support_problem:
        _support_problem.append(vlan.namespace_support_problem())
    return _support_problem[0]


@pytest.fixture(scope="session")
def lan_session() -> Iterator[None]:
    """Checks support once, clears leftovers of killed runs, and proves nothing leaks at the end."""
    problem = _session_support_problem()
    if problem is not None:
        pytest.skip(problem)
    vlan.remove_stale_namespaces()
    vlan.install_emergency_cleanup()
    links_before = vlan.root_links()
    namespaces_before = set(vlan.list_namespaces())
    try:
        yield
    finally:
        vlan.cleanup_all()
    links_after = vlan.root_links()
    left = [name for name in vlan.list_namespaces() if name not in namespaces_before]
    ours_left = [name for name in left if name.startswith(vlan.RUN_PREFIX)] + vlan.stale_namespaces()
    assert not ours_left, f"the virtual LAN left namespaces behind: {ours_left}"
    assert links_after == links_before, (
        "`ip link` in the root namespace changed during the LAN tests: "
        f"added {sorted(links_after - links_before)}, removed {sorted(links_before - links_after)}"
    )


@pytest.fixture
def make_lan(lan_session: None, request: pytest.FixtureRequest) -> Iterator[Callable[..., vlan.VirtualLan]]:
    """Build LANs on demand: `make_lan(3)`. Each is torn down after the test, whatever happens.

    When the test failed, the transcript of every process that ran on the LAN is printed
    (pytest shows it under "Captured stdout teardown").
    """
    lans: list[vlan.VirtualLan] = []

    def make(pcs: int = 3, **options: object) -> vlan.VirtualLan:
        lan = vlan.VirtualLan(pcs, **options)
        lans.append(lan)
        return lan.build()

    try:
        yield make
    finally:
        report = getattr(request.node, "lan_report_call", None)
        failed = report is None or report.failed
        for lan in lans:
            lan.stop_processes()
            if failed and lan.processes:
                print(f"\n===== processes on {lan.network} ({lan.tag}) =====\n{lan.transcripts()}")
            lan.close()
        leftover = [name for lan in lans for name in vlan.list_namespaces() if name.startswith(lan.tag + "-")]
        assert not leftover, f"namespaces not deleted: {leftover}"


@pytest.fixture
def two_sites(make_lan: Callable[..., vlan.VirtualLan]) -> Iterator[TwoSites]:
    """Site A (server PC, 2 PCs) and site B (2 PCs), joined only through a 3-node NATS
    cluster on the server PC (tests/lan/two_sites.py)."""
    if NATS_SERVER is None:
        pytest.skip("nats-server is not installed (Debian's nats-server; `make test` installs it as root)")
    cluster = NatsCluster()
    site_a = make_lan(3)
    try:
        yield TwoSites(site_a, make_lan(2), cluster).build()
    finally:
        site_a.stop_processes()  # the nodes run in its server PC: stopped before their data goes
        cluster.stop()


@pytest.fixture
def lan(make_lan: Callable[..., vlan.VirtualLan]) -> vlan.VirtualLan:
    """Three PCs on one switch: lan[1], lan[2], lan[3]."""
    return make_lan(3)


@pytest.fixture(params=["tcp", "udp"])
def transport(request: pytest.FixtureRequest) -> str:
    """Each scenario runs over both transports."""
    return request.param


@pytest.fixture
def loopback_only_is_set() -> None:
    """The test process itself must stay loopback-only (the suite's conftest sets this)."""
    assert os.environ.get("LANCHAT_LOOPBACK_ONLY") == "1"
