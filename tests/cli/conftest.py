"""Fixtures for the window-less commands' tests: discover and doctor need live discovery."""

from tests.discovery import conftest as live_discovery

#: The live-discovery fixture of tests/discovery: loopback announcers and browsers, all stopped after.
discovery = live_discovery.discovery
