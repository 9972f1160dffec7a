"""Refresh the translation catalogs after changing strings in gui/ (a developer tool).

    .venv/bin/python assets/locale/update_catalogs.py          # extract, merge, compile
    .venv/bin/python assets/locale/update_catalogs.py --compile-only  # after editing a .po

Steps (with Babel, pinned in requirements-dev.txt): extract every string marked with
``tr()``, ``N_()`` or ``ntr()`` in gui/ into ``lanchat.pot``; merge it into each language's
``<lang>/LC_MESSAGES/lanchat.po`` (new strings arrive untranslated: translate them there);
compile each ``.po`` into the ``.mo`` the app reads at run time. The ``.mo`` files are
committed, so running LanChat needs no Babel. tests/gui/test_translations.py fails when a
``.mo`` is stale or a marked string has no Chinese translation.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

LOCALE = Path(__file__).resolve().parent
ROOT = LOCALE.parent.parent
DOMAIN = "lanchat"
LANGUAGES = ("zh_CN",)
KEYWORDS = ("tr", "N_", "ntr:1,2")


def pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    subprocess.run(command, check=True, cwd=ROOT)


def extract() -> Path:
    template = LOCALE / f"{DOMAIN}.pot"
    keywords = [f"--keyword={keyword}" for keyword in KEYWORDS]
    pybabel(
        "extract",
        *keywords,
        "--no-location",
        "--sort-output",
        "--project=LanChat",
        "--copyright-holder=LanChat",
        f"--output-file={template}",
        "gui",
    )
    return template


def merge(template: Path) -> None:
    for language in LANGUAGES:
        catalog = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if catalog.exists():
            pybabel(
                "update",
                "--no-fuzzy-matching",
                "--ignore-obsolete",
                f"--input-file={template}",
                f"--output-file={catalog}",
                f"--locale={language}",
            )
        else:
            catalog.parent.mkdir(parents=True, exist_ok=True)
            pybabel("init", f"--input-file={template}", f"--output-file={catalog}", f"--locale={language}")


def compile_catalogs() -> None:
    for language in LANGUAGES:
        base = LOCALE / language / "LC_MESSAGES" / DOMAIN
        pybabel("compile", f"--input-file={base}.po", f"--output-file={base}.mo", f"--locale={language}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compile-only", action="store_true", help="only compile the .po files")
    args = parser.parse_args()
    if not args.compile_only:
        merge(extract())
    compile_catalogs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
