#!/bin/bash
# The README's two commands on a fresh Debian 12: a minbase system built here with
# debootstrap, with Debian's standard sources and nothing else installed, the committed
# tree cloned into it, `scripts/demo.sh` and `scripts/test.sh` run there as root (its
# root the root of a mount namespace of its own). Prints
# each command's time and last line, tears everything down, exits 1 if either failed.
# Usage: scripts/fresh-machine.sh [demo|test]... (default both)
# KEEP=1 keeps the chroot (its path is printed) for a look afterwards.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "fresh-machine: run as root (chroot, namespaces)" >&2; exit 2; }
steps=${*:-demo test}
export DEBIAN_FRONTEND=noninteractive
if ! command -v debootstrap >/dev/null; then
	apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null ||
		{ echo "fresh-machine: cannot install debootstrap" >&2; exit 2; }
fi
# the mirror this machine's apt uses, so the chroot reaches what this machine reaches
mirror=$(sed -n 's/^URIs: *\([^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
mirror=${mirror:-http://deb.debian.org/debian}
security=${mirror%/debian*}/debian-security

root=$(mktemp -d /var/tmp/mailscan-fresh.XXXXXX)
chmod 755 "$root" # apt fetches as _apt
mounts=""
teardown() {
	local m
	for m in $mounts; do umount -l "$m" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then
		echo "fresh-machine: kept $root"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap teardown EXIT
trap 'exit 1' INT TERM
mnt() { # mnt ARGS... TARGET: mounts and remembers TARGET for the teardown
	mount "$@" || { echo "fresh-machine: mount $*" >&2; exit 2; }
	mounts="${*: -1} $mounts"
}

t0=$(date +%s)
echo "fresh-machine: debootstrap --variant=minbase bookworm $root $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
	{ tail -n 20 "$root.debootstrap.log" >&2; rm -f "$root.debootstrap.log"; exit 2; }
rm -f "$root.debootstrap.log"
cat >"$root/etc/apt/sources.list" <<SRC
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SRC
# what a fresh system has: a resolver configuration; no entry for this host's name
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# the root a mount point of its own, as on a real system (ip netns exec remounts it)
mnt --bind "$root" "$root"
mnt --make-private "$root"
mnt -t proc proc "$root/proc"
mnt --rbind /sys "$root/sys"
mnt --make-rslave "$root/sys"
mnt --rbind /dev "$root/dev"
mnt --make-rslave "$root/dev"
mnt -t tmpfs tmpfs "$root/run"
mkdir -p "$root/run/lock"
echo "fresh-machine: chroot ready in $(($(date +%s) - t0)) s"

# the committed tree, as a user would clone it (git itself is not on a fresh system:
# the clone is made from outside)
git clone -q "$top" "$root/root/mailscan" || exit 2

rc=0
for step in $steps; do
	case $step in
	demo) cmd=scripts/demo.sh ;;
	test) cmd=scripts/test.sh ;;
	*) echo "fresh-machine: unknown step $step" >&2; exit 2 ;;
	esac
	s=$(date +%s)
	# the system's root, as a machine booted from it has it: the root of a mount namespace
	# of its own (pivot_root, not chroot(2), under which the kernel refuses user
	# namespaces, and so mailscand's scanners their private temporary space)
	unshare --mount --propagation private /bin/sh -c 'cd "$1" && mkdir -p .oldroot &&
		pivot_root . .oldroot && umount -l /.oldroot && rmdir /.oldroot && shift && exec "$@"' \
		sh "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb \
		/bin/bash -c "cd /root/mailscan && $cmd" >"$root/root/$step.log" 2>&1
	r=$?
	[ $r = 0 ] || rc=1
	echo "fresh-machine: $cmd: exit $r in $(($(date +%s) - s)) s; last line: $(tail -n 1 "$root/root/$step.log")"
	if [ $r != 0 ]; then
		# every suite's count and every failing check, then the end of the output
		grep -E '^[a-z_-]+: [0-9]+ passed, [0-9]+ failed|failing|FAIL' "$root/root/$step.log" | sed 's/^/    /'
		tail -n 20 "$root/root/$step.log" | sed 's/^/    | /'
	fi
	if [ "$step" = test ]; then
		echo "fresh-machine: the integration tests' times:"
		sed -n '/^== integration$/,/^== /p' "$root/root/$step.log" | grep -E '^(PASS|FAIL) ' | sed 's/^/    /'
	fi
done
echo "fresh-machine: $([ $rc = 0 ] && echo passed || echo failed) in $(($(date +%s) - t0)) s"
exit $rc
