"""The error a setting's check raises: its own module, so the checks can live in several."""

from __future__ import annotations


class SettingError(ValueError):
    """A value the user typed cannot be used; the message says why, in the user's language."""
