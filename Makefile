# LanChat: two commands on a fresh machine.
#   make run    start the app (creates .venv and installs what it needs)
#   make test   run the whole test suite (same set-up, plus Xvfb for the GUI tests)
# Every target is self-installing: a virtual environment in .venv with the pinned packages,
# and Xvfb through apt-get when run as root (otherwise a message naming the package).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev
RUNSTAMP := $(VENV)/.installed-run

# Tests and benchmarks keep all discovery traffic on loopback (the network rule of shared
# machines). `make run` does not: a user's LanChat must find chats on the real LAN. On a
# shared machine, export LANCHAT_LOOPBACK_ONLY=1 yourself before `make run`.
test bench: export LANCHAT_LOOPBACK_ONLY = 1

.PHONY: run test lint bench build clean system-deps

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNSTAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(RUNSTAMP)

# Xvfb (virtual screen for GUI tests), xauth, and a CJK font so Chinese renders in screenshots.
system-deps:
	@sh .ci/ensure_system_deps.sh

run: $(RUNSTAMP)
	$(PY) main.py $(ARGS)

test: $(STAMP) system-deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff (lint and format), and mypy (strict on net/, see [tool.mypy] in pyproject.toml)
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP) system-deps
	$(PY) -m bench $(ARGS)

# The double-clickable LanChat (PyInstaller, see build.spec and the README's build section):
#   make build                        dist/LanChat (one file) and dist/LanChat-onedir/ (one folder)
#   make build LANCHAT_BUILD=onefile  just one of them (onefile or onedir)
LANCHAT_BUILD ?= both
build: $(STAMP)
	LANCHAT_BUILD=$(LANCHAT_BUILD) $(PY) -m PyInstaller --noconfirm --clean --log-level WARN build.spec
	@ls -l dist

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
