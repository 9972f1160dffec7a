"""Translations: catalogs compiled and complete, tr() and the language choice."""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from gui import i18n
from gui.resources import asset_path

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"tr": None, "N_": None, "ntr": (1, 2)}
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")


def catalog_path(language: str, suffix: str) -> Path:
    return asset_path("locale", language, "LC_MESSAGES", f"lanchat.{suffix}")


def load_po(language: str):
    with catalog_path(language, "po").open("rb") as source:
        return read_po(source, locale=language)


def marked_strings() -> set[str | tuple[str, str]]:
    """Every string marked for translation in gui/ (as Babel's extractor sees them)."""
    found: set[str | tuple[str, str]] = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "gui"), keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return found


@pytest.mark.parametrize("language", ["zh_CN"])
def test_compiled_catalog_matches_its_source(language):
    """The committed .mo is what compiling the .po gives (run assets/locale/update_catalogs.py)."""
    buffer = io.BytesIO()
    write_mo(buffer, load_po(language))
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with catalog_path(language, "mo").open("rb") as committed_file:
        committed = gettext.GNUTranslations(committed_file)
    assert committed._catalog == fresh._catalog  # type: ignore[attr-defined]


def test_every_marked_string_has_a_chinese_translation():
    catalog = load_po("zh_CN")
    missing = []
    for message in marked_strings():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        translated = entry is not None and "fuzzy" not in entry.flags and entry.string
        if isinstance(translated, (tuple, list)):
            translated = all(translated)
        if not translated:
            missing.append(key)
    assert not missing, "untranslated (add them to zh_CN/LC_MESSAGES/lanchat.po):\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    for entry in load_po("zh_CN"):
        if not entry.id:
            continue
        source = entry.id if isinstance(entry.id, str) else entry.id[0]
        targets = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        for target in targets:
            assert set(PLACEHOLDER.findall(target)) == set(PLACEHOLDER.findall(source)), source


def test_tr_translates_and_falls_back():
    assert i18n.set_language("zh_CN") == "zh_CN"
    assert i18n.tr("Host a chat") == "创建聊天"
    assert i18n.tr("a sentence nobody marked") == "a sentence nobody marked"
    assert i18n.ntr("{count} member", "{count} members", 3).format(count=3) == "3 名成员"
    assert i18n.set_language("en") == "en"
    assert i18n.tr("Host a chat") == "Host a chat"
    assert i18n.ntr("{count} member", "{count} members", 1) == "{count} member"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "zh_TW.UTF-8"}, "zh_CN"),
        ({"LANGUAGE": "zh_CN:en_US", "LANG": "en_US.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
    ],
)
def test_system_language_follows_the_locale(environ, expected):
    assert i18n.system_language(environ, platform="linux") == expected


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("zh-Hans-CN", "zh_CN"),
        ("Chinese (Simplified)_China", "zh_CN"),
        ("en_US", "en"),
        ("C", None),
        ("", None),
    ],
)
def test_locale_names_map_to_our_languages(tag, code):
    assert i18n.normalize_language(tag) == code


def test_an_empty_setting_follows_the_system(monkeypatch):
    monkeypatch.setenv("LANGUAGE", "zh_CN")
    assert i18n.set_language("") == "zh_CN"
    assert i18n.tr("Send") == "发送"
