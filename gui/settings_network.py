"""Checks of the network settings: extra addresses to search, and the NATS backbone.

The settings file and the Settings dialog use the same checks (`gui.settings`), so a value
refused in one is refused in the other, with the same sentence.
"""

from __future__ import annotations

from gui.i18n import tr
from gui.setting_error import SettingError
from net.backbone.config import MAX_SERVERS, BadServer, check_servers
from net.discovery import ProbeTarget, parse_probe_target

#: The backbone setting: a few NATS server addresses.
MAX_BACKBONE_CHARS = 1000


MAX_DISCOVERY_TARGETS = 16


def check_discovery_targets(text: str) -> list[str]:
    """Addresses or subnets to search, separated by commas or spaces (each checked)."""
    items = [item for item in text.replace(",", " ").split() if item]
    if len(items) > MAX_DISCOVERY_TARGETS:
        raise SettingError(
            tr("At most {count} extra addresses can be searched.").format(count=MAX_DISCOVERY_TARGETS)
        )
    _targets, problems = parse_discovery_targets(items)
    if problems:
        raise SettingError(
            tr("“{text}” is not an IP address or small subnet (such as 192.168.1.7 or 10.0.5.0/24).").format(
                text=problems[0]
            )
        )
    return items


def check_backbone(text: str) -> str:
    """The NATS servers of the backbone, as the settings keep them ("": none); each checked."""
    try:
        if len(text) > MAX_BACKBONE_CHARS:
            raise BadServer("")
        return ",".join(check_servers(text))
    except BadServer as exc:
        if not exc.server:
            too_many = tr("At most {count} NATS servers can be given.")
            raise SettingError(too_many.format(count=MAX_SERVERS)) from None
        sentence = tr("“{text}” is not a NATS server address (such as {example}).")
        raise SettingError(sentence.format(text=exc.server, example="nats://10.0.1.5:4222")) from None


def parse_discovery_targets(items: list[str]) -> tuple[list[ProbeTarget], list[str]]:
    """The probe targets of `items`, and the items that are not valid targets."""
    targets: list[ProbeTarget] = []
    problems: list[str] = []
    for item in items:
        try:
            targets.append(parse_probe_target(item))
        except ValueError:
            problems.append(item)
    return targets, problems
