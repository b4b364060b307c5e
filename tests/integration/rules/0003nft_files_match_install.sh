#!/bin/bash
# The human-readable rule files in nft/ describe exactly what `rules install` builds.
# On a kernel without nft_queue the queue statement cannot load (and nft cannot print the
# xt target), so there both sides are compared without it.
. "$(dirname "$0")/../../lib.sh"
write_config "queues = 0"
if kernel_has_nft_queue; then strip=cat; else strip="sed s/[[:space:]]*queue[[:space:]]num[[:space:]]0[[:space:]]bypass//"; fi
for mode in gateway host; do
	ip netns add "${NS_PREFIX}f$mode"
	ip netns add "${NS_PREFIX}i$mode"
	$strip "$TOP/nft/mailscan-$mode.nft" | ip netns exec "${NS_PREFIX}f$mode" nft -f - ||
		fail "nft/mailscan-$mode.nft does not load"
	ip netns exec "${NS_PREFIX}i$mode" "$BUILD/mailscanctl" -c "$CONF" rules install --$mode \
		>/dev/null || fail "install --$mode"
	nft_in "${NS_PREFIX}f$mode" list table inet mailscan | sed 's/[[:space:]]*$//' >"$WORK/f"
	nft_in "${NS_PREFIX}i$mode" list table inet mailscan | sed 's/[[:space:]]*$//' >"$WORK/i"
	[ -s "$WORK/f" ] || fail "empty listing"
	diff -u "$WORK/f" "$WORK/i" || fail "nft/mailscan-$mode.nft differs from rules install --$mode"
	ok "nft/mailscan-$mode.nft matches rules install --$mode"
done
