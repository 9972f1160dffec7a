#!/bin/sh
# Installs the system packages the test suite needs (Debian/Ubuntu), or says which are missing.
# Called by `make test` and `make bench`; safe to run repeatedly (does nothing when all are present).
set -e
missing=""
command -v Xvfb >/dev/null 2>&1 || missing="$missing xvfb"
command -v xauth >/dev/null 2>&1 || missing="$missing xauth"
command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
if command -v fc-list >/dev/null 2>&1; then
    fc-list :lang=zh | grep -q . || missing="$missing fonts-wqy-microhei"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing system packages:$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    exit 0
fi
case "$missing" in
    *xvfb*|*xauth*|*xdotool*)
        echo "The GUI tests need a virtual X server (and xdotool for the built program's tests). Please install:$missing (e.g. sudo apt-get install$missing)" >&2
        exit 1 ;;
    *)
        echo "Note: no Chinese font found; install$missing for Chinese text to render." >&2 ;;
esac
