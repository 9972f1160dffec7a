"""Translations: `tr()` wraps gettext and falls back to the English source text.

Catalogs live in ``assets/locale/<lang>/LC_MESSAGES/lanchat.mo`` (compiled from the
``.po`` next to them, see tools note in `tests/gui/test_translations.py`). English is the
source language and needs no catalog. Strings defined at import time (tables, enums) are
marked with `N_()` and translated where they are shown, so switching the language takes
effect without restarting.

A text that a view keeps (an error under a form, the reason in the status bar) was
translated when it was made; `tr()` and `ntr()` therefore return a `Phrase`, a `str` that
remembers how it was said, and `retranslated()` says it again in the language now in use.
"""

from __future__ import annotations

import gettext
import locale
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Mapping

from gui.resources import asset_path

log = logging.getLogger(__name__)

DOMAIN = "lanchat"
SYSTEM = ""  # the language setting that follows the system locale
#: Language codes offered in Settings, with their names written in that language.
LANGUAGES: dict[str, str] = {"en": "English", "zh_CN": "简体中文"}

_translation: gettext.NullTranslations = gettext.NullTranslations()
_current = "en"


class Phrase(str):
    """A translated text that can say itself again in the language now in use.

    Views keep texts made elsewhere (the controller's error sentences, a status reason) without
    knowing how they were made; after the user switches language they show
    `retranslated(text)` instead. `format()` keeps the recipe (with its arguments, themselves
    retranslated); anything else done to a phrase (``+``, ``join``, f-strings, ``strip``) gives
    a plain `str`, which stays as it is.
    """

    _say: Callable[[], str]

    def __new__(cls, text: str, say: Callable[[], str]) -> Phrase:
        phrase = super().__new__(cls, text)
        phrase._say = say
        return phrase

    def __str__(self) -> str:
        return self  # so str(exc) of an exception made from a phrase keeps the recipe

    def format(self, *args: object, **kwargs: object) -> Phrase:
        def say() -> str:
            again = [retranslated(arg) if isinstance(arg, str) else arg for arg in args]
            named = {key: retranslated(v) if isinstance(v, str) else v for key, v in kwargs.items()}
            return self._say().format(*again, **named)

        return Phrase(str.format(self, *args, **kwargs), say)


def retranslated(text: str) -> str:
    """`text` in the language now in use when it is a `Phrase`; any other text unchanged."""
    return text._say() if isinstance(text, Phrase) else text


def N_(message: str) -> str:
    """Mark `message` for translation without translating it yet (tables built at import)."""
    return message


def tr(message: str) -> str:
    """`message` in the current language, or unchanged when there is no translation."""
    return Phrase(_translation.gettext(message) or message, lambda: tr(message))


def ntr(singular: str, plural: str, count: int) -> str:
    """The singular or plural form of a message for `count`, in the current language."""
    return Phrase(_translation.ngettext(singular, plural, count), lambda: ntr(singular, plural, count))


def current_language() -> str:
    return _current


def set_language(setting: str) -> str:
    """Switch to the language `setting` ("" follows the system); returns the code in use."""
    global _translation, _current
    code = normalize_language(setting) if setting else system_language()
    code = code or "en"
    if code == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(
            DOMAIN, localedir=str(asset_path("locale")), languages=[code], fallback=True
        )
        if isinstance(_translation, gettext.GNUTranslations):
            log.debug("loaded the %s catalog", code)
        else:
            log.warning("no %s catalog found under %s; showing English", code, asset_path("locale"))
    _current = code
    return code


def normalize_language(tag: str) -> str | None:
    """Map a locale name (``zh_CN.UTF-8``, ``zh-Hans``, ``Chinese (Simplified)_China``) to a code we have.

    Every Chinese locale maps to Simplified Chinese (the only Chinese catalog); any other
    recognised locale maps to English; None when `tag` names no language (``C``, ``POSIX``).
    """
    tag = tag.strip()
    if not tag or tag.upper() in {"C", "POSIX"} or tag.upper().startswith("C."):
        return None
    lowered = tag.lower()
    if lowered.startswith("zh") or lowered.startswith("chinese"):
        return "zh_CN"
    return "en"


def system_language(environ: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """The language the user's system asks for, as one of `LANGUAGES` (English if unknown)."""
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    # The POSIX variables, in gettext's order of precedence; LANGUAGE may list several.
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for tag in environ.get(name, "").split(":"):
            code = normalize_language(tag)
            if code:
                return code
    for tag in _platform_locales(platform):
        code = normalize_language(tag)
        if code:
            return code
    return "en"


def _platform_locales(platform: str) -> list[str]:
    """Locale names from the OS when no environment variable says (Windows, apps started from Finder)."""
    names: list[str] = []
    if platform == "win32":
        try:
            import ctypes

            lcid = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
            names.append(locale.windows_locale.get(lcid, ""))
        except (AttributeError, OSError):
            pass
    elif platform == "darwin":
        try:
            result = subprocess.run(
                ["defaults", "read", "-g", "AppleLocale"], capture_output=True, text=True, timeout=2
            )
            names.append(result.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    names.append(locale.getlocale(getattr(locale, "LC_MESSAGES", locale.LC_CTYPE))[0] or "")
    return names
