#!/bin/bash
# ports add/remove follow the product's rules with the documented exit codes, change the
# live sets atomically, reach the queue at once, persist, and are restored by a later
# rules install; a refused change changes nothing.
. "$(dirname "$0")/../../lib.sh"
topology_gateway
write_config "queues = 0"
c() { ip netns exec "$NS_G" "$BUILD/mailscanctl" -c "$CONF" "$@"; }
live() { nft_in "$NS_G" list set inet mailscan "$1" | sed -n 's/.*elements = { \(.*\) }/\1/p'; }

# expect_rc WANT_RC MESSAGE_SUBSTRING ARGS...
expect_rc() {
	local want=$1 msg=$2 out rc
	shift 2
	out=$(c "$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || fail "mailscanctl $*: exit $rc, want $want ($out)"
	[ -z "$msg" ] || echo "$out" | grep -qF -- "$msg" || fail "mailscanctl $*: '$out' lacks '$msg'"
	ok "mailscanctl $* -> $want"
}

c rules install >/dev/null || fail "install"
expect_eq "ports list (defaults)" "$(c ports list)" "smtp 25 default
pop3 110 default"

expect_rc 0 "added smtp 10025" ports add smtp 10025
expect_eq "live smtp set" "$(live smtp_ports)" "25, 10025"
expect_rc 0 "added pop3 10111" ports add pop3 10111
expect_eq "live pop3 set" "$(live pop3_ports)" "110, 10111"

cp "$WORK/ports" "$WORK/ports.before"
nft_in "$NS_G" list table inet mailscan >"$WORK/t.before"
expect_rc 1 "ms-v-worlds" ports add smtp 2525
expect_rc 1 "already protected (smtp)" ports add pop3 10025
expect_rc 1 "already protected (smtp, default)" ports add smtp 25
expect_rc 1 "already protected (pop3, default)" ports add smtp 110 --force
expect_rc 1 "encrypted and cannot be scanned" ports add smtp 465
expect_rc 1 "encrypted and cannot be scanned" ports add pop3 995 --force
expect_rc 1 "IMAP" ports add pop3 993
expect_rc 1 "submission" ports add pop3 587
expect_rc 1 "default and cannot be removed" ports remove smtp 25
expect_rc 1 "default and cannot be removed" ports remove pop3 110
expect_rc 1 "not protected" ports remove smtp 10026
expect_rc 1 "not protected for pop3" ports remove pop3 10025
expect_rc 2 "expected an integer 1-65535" ports add smtp 0
expect_rc 2 "expected an integer 1-65535" ports add smtp 65536
expect_rc 2 "expected an integer 1-65535" ports add smtp abc
expect_rc 2 "expected an integer 1-65535" ports add smtp -5
expect_rc 2 "unknown protocol" ports add imap 10143
expect_rc 2 "" ports add smtp
expect_rc 2 "" ports remove smtp 10025 --force
cmp -s "$WORK/ports" "$WORK/ports.before" || fail "a refused change touched the ports file"
nft_in "$NS_G" list table inet mailscan >"$WORK/t.after"
cmp -s "$WORK/t.before" "$WORK/t.after" || fail "a refused change touched the live sets"
ok "refused changes changed nothing"

expect_rc 0 "added smtp 2525" ports add smtp 2525 --force
expect_rc 0 "added smtp 1" ports add smtp 1 --force
expect_rc 0 "added smtp 65535" ports add smtp 65535
expect_eq "ports list" "$(c ports list)" "smtp 1 added
smtp 25 default
smtp 2525 added
smtp 10025 added
smtp 65535 added
pop3 110 default
pop3 10111 added"

# an added port reaches the queue at once
bg in_s "$PY" "$TOP/tests/tools/xfer.py" server 10025
await "server did not start" listening "$NS_S" 10025
bg in_g "$BUILD/tools/nfq_accept" 0 30 >"$WORK/nfq.out" 2>"$WORK/nfq.err"
nfq=$!
wait_for grep -q listening "$WORK/nfq.err" || fail "listener did not start"
out=$(in_c "$PY" "$TOP/tests/tools/xfer.py" client $S4 10025 50000) || fail "xfer: $out"
kill -TERM $nfq
wait $nfq
got=$(sed -n 's/^packets=\([0-9]*\) .*/\1/p' "$WORK/nfq.out")
[ "${got:-0}" -gt 0 ] || fail "traffic to an added port was not queued"
ok "traffic to an added port is queued ($got packets)"

# restart: rules gone, then installed again from the ports file
c rules remove >/dev/null
expect_rc 0 "applies at the next rules install" ports remove smtp 1
c rules install >/dev/null || fail "reinstall"
expect_eq "restored smtp set" "$(live smtp_ports)" "25, 2525, 10025, 65535"
expect_eq "restored pop3 set" "$(live pop3_ports)" "110, 10111"

expect_rc 0 "removed smtp 10025" ports remove smtp 10025
expect_eq "live smtp set after remove" "$(live smtp_ports)" "25, 2525, 65535"
grep -q 10025 "$WORK/ports" && fail "removed port still in the ports file"
ok "removal persisted"
c rules remove >/dev/null
expect_eq "ruleset after remove" "$(nft_in "$NS_G" list ruleset)" ""
