#!/bin/bash
# The demo, on the embedded default: builds mailscan, makes a client / gateway / server
# set of network namespaces, installs the rules on the gateway, shows the protected
# ports, sends SMTP-port traffic through and shows the counters, then removes everything.
# Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "scripts/demo.sh: run as root" >&2; exit 2; }
"$top/scripts/deps.sh" >/dev/null
make -C "$top" -s -j"$(nproc)" all >/dev/null
NS_PREFIX=msdemo
. "$top/tests/lib.sh"

step() { printf '\n== %s\n' "$*"; }

step "topology: client $C4 -> gateway -> server $S4 (namespaces ${NS_PREFIX}c/g/s)"
topology_gateway
write_config "queues = 0"
bg in_s "$PY" "$TOP/tests/tools/xfer.py" server 25
wait_for 5 in_s sh -c 'ss -ltn | grep -q ":25 "'

step "mailscanctl rules install --gateway"
in_g "$BUILD/mailscanctl" -c "$CONF" rules install --gateway

step "mailscanctl ports add smtp 10025; ports list"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add smtp 10025
in_g "$BUILD/mailscanctl" -c "$CONF" ports list

step "mailscanctl ports add smtp 2525 (refused: IANA assigns it to another protocol)"
in_g "$BUILD/mailscanctl" -c "$CONF" ports add smtp 2525 || echo "(exit $?)"

step "traffic to port 25 through the gateway"
in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 25 100000

step "mailscanctl rules show (kernel counters)"
in_g "$BUILD/mailscanctl" -c "$CONF" rules show

step "mailscanctl rules remove"
in_g "$BUILD/mailscanctl" -c "$CONF" rules remove
echo
echo "demo done; namespaces are removed on exit"
