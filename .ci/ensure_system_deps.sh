#!/bin/sh
# Installs the system packages the test suite and the benchmarks need (Debian/Ubuntu), or says
# which are missing. The one place that installs system packages: called by `make test` and
# `make bench`; safe to run repeatedly (does nothing when all are present).
#   xvfb, xauth        virtual X server for the GUI tests and the GUI benchmark
#   xdotool            drives the built program's window in its tests
#   fonts-wqy-microhei a CJK font, so Chinese renders in screenshots
#   redis-server       the peer of the fan-out tests and the benchmark's targets
#   dbus-daemon        a private session bus for the desktop notification tests
#   netcat-openbsd     `nc`, so the README's `nc HOST PORT` is run as written (tests/test_readme.py)
#   iptux              the real IP Messenger client of the bridge's interop test (tests/lan/test_ipmsg_iptux.py)
#   nats-server        the 3-node NATS JetStream cluster of the backbone tests and benchmark
set -e
missing=""
command -v Xvfb >/dev/null 2>&1 || missing="$missing xvfb"
command -v xauth >/dev/null 2>&1 || missing="$missing xauth"
command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v dbus-daemon >/dev/null 2>&1 || missing="$missing dbus-daemon"
command -v nc >/dev/null 2>&1 || missing="$missing netcat-openbsd"
command -v iptux >/dev/null 2>&1 || missing="$missing iptux"
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing="$missing nats-server"
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
esac
case "$missing" in
    *redis-server*)
        echo "Note: redis-server is missing: the Redis test is skipped and \`make bench\` cannot measure its targets (sudo apt-get install redis-server)." >&2 ;;
esac
case "$missing" in
    *dbus-daemon*)
        echo "Note: dbus-daemon is missing: the desktop notification tests are skipped (sudo apt-get install dbus-daemon)." >&2 ;;
    *netcat-openbsd*)
        echo "Note: nc is missing: the README test skips its \`nc\` command (sudo apt-get install netcat-openbsd)." >&2 ;;
esac
case "$missing" in
    *iptux*)
        echo "Note: iptux is missing: the IP Messenger interop test is skipped (sudo apt-get install iptux)." >&2 ;;
    *nats-server*)
        echo "Note: nats-server is missing: the NATS backbone tests are skipped and \`make bench\` cannot measure the backbone (sudo apt-get install nats-server)." >&2 ;;
esac
case "$missing" in
    *fonts-wqy-microhei*)
        echo "Note: no Chinese font found; install fonts-wqy-microhei for Chinese text to render." >&2 ;;
esac
