#!/bin/bash
# rules install builds table inet mailscan (sets, counters, chains, queue rules); a second
# install changes nothing; --host swaps the chains; a failed install leaves the previous
# ruleset untouched; remove leaves no trace.
. "$(dirname "$0")/../../lib.sh"
ip netns add "$NS_G"
write_config "queues = 2-3"

out=$(in_g "$BUILD/mailscanctl" -c "$CONF" rules install) || fail "install: $out"
echo "$out" | grep -q "mode gateway" || fail "install output: $out"
nft_in "$NS_G" list table inet mailscan >"$WORK/t1"
grep -q 'elements = { 25 }' "$WORK/t1" || fail "smtp_ports lacks 25"
grep -q 'elements = { 110 }' "$WORK/t1" || fail "pop3_ports lacks 110"
for c in smtp_to_server smtp_to_client pop3_to_server pop3_to_client; do
	grep -q "counter $c" "$WORK/t1" || fail "counter $c missing"
	grep -q "counter name \"$c\"" "$WORK/t1" || fail "no rule uses counter $c"
done
grep -q 'chain forward ' "$WORK/t1" || fail "no forward chain"
grep -q 'ct mark set ct mark | 0x40000000' "$WORK/t1" || fail "no offload marking rule"
grep -q 'tcp dport @smtp_ports' "$WORK/t1" || fail "no dport rule"
grep -q 'tcp sport @pop3_ports' "$WORK/t1" || fail "no sport rule"
grep -q 'ct mark & 0x40000000 == 0x40000000 accept' "$WORK/t1" || fail "no offload accept"
grep -q 'meta mark & 0x20000000 == 0x20000000 accept' "$WORK/t1" || fail "no inject accept"
ok "install builds the table"

show=$(in_g "$BUILD/mailscanctl" -c "$CONF" rules show) || fail "show"
echo "$show" | grep -Eq '^queue (nft queue|xt NFQUEUE) 2-3 bypass$' || fail "show: $show"
echo "$show" | grep -q '^smtp_ports 25$' || fail "show ports: $show"
echo "$show" | grep -q '^chains forward forward_offload$' || fail "show chains: $show"
ok "rules show reads the queue range, ports and chains back"
if kernel_has_nft_queue; then
	echo "$show" | grep -q 'nft queue' || fail "kernel has nft_queue but backend is: $show"
	ok "kernel with nft_queue got the native queue statement"
else
	echo "$show" | grep -q 'xt NFQUEUE' || fail "kernel lacks nft_queue but backend is: $show"
	ok "kernel without nft_queue got the xt NFQUEUE fallback"
fi

nft_in "$NS_G" list ruleset >"$WORK/a"
in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "second install"
nft_in "$NS_G" list ruleset >"$WORK/b"
cmp -s "$WORK/a" "$WORK/b" || fail "second install changed the ruleset: $(diff "$WORK/a" "$WORK/b")"
ok "install twice changes nothing"

in_g "$BUILD/mailscanctl" -c "$CONF" rules install --host >/dev/null || fail "install --host"
nft_in "$NS_G" list table inet mailscan >"$WORK/t2"
grep -q 'chain forward' "$WORK/t2" && fail "forward chain left after --host"
grep -q 'chain input_offload' "$WORK/t2" || fail "no input offload chain"
grep -q 'chain input' "$WORK/t2" || fail "no input chain"
grep -q 'chain output' "$WORK/t2" || fail "no output chain"
expect_eq "host mode queue rules" "$(grep -c 'counter name' "$WORK/t2")" 8

# a conflicting object makes the kernel refuse the batch: nothing may change
nft_in "$NS_G" list ruleset >"$WORK/before"
in_g "$BUILD/mailscanctl" -c "$CONF" rules remove >/dev/null
nft_in "$NS_G" add table inet mailscan
nft_in "$NS_G" add set inet mailscan smtp_ports '{ type ipv4_addr; }'
nft_in "$NS_G" list ruleset >"$WORK/before"
out=$(in_g "$BUILD/mailscanctl" -c "$CONF" rules install 2>&1)
expect_eq "conflicting install exit code" "$?" 2
echo "$out" | grep -q "ruleset unchanged" || fail "no reason given: $out"
nft_in "$NS_G" list ruleset >"$WORK/after"
cmp -s "$WORK/before" "$WORK/after" || fail "failed install changed the ruleset"
ok "a failed install leaves the previous ruleset untouched and says why"

in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null 2>&1
nft_in "$NS_G" delete table inet mailscan
in_g "$BUILD/mailscanctl" -c "$CONF" rules install >/dev/null || fail "reinstall"
out=$(in_g "$BUILD/mailscanctl" -c "$CONF" rules remove) || fail "remove"
expect_eq "remove output" "$out" "removed table inet mailscan"
expect_eq "ruleset after remove" "$(nft_in "$NS_G" list ruleset)" ""
out=$(in_g "$BUILD/mailscanctl" -c "$CONF" rules remove) || fail "second remove"
expect_eq "second remove output" "$out" "table inet mailscan was not installed"
expect_eq "show after remove" "$(in_g "$BUILD/mailscanctl" -c "$CONF" rules show)" \
	"table inet mailscan: not installed"
