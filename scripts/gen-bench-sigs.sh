#!/bin/sh
# Generates a large synthetic signature database for the memory benchmark into DIR
# (default build/benchsigs): 1,000,000 MD5 signatures (.hdb: MD5:size:name) and 100,000
# body signatures (.ndb: name:target:offset:hex), random, in the formats sigtool writes.
# Nothing real matches them; they cost what a production database of that size costs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/benchsigs}
[ -s "$out/mailscan-bench.ndb" ] && exit 0
mkdir -p "$out"
/usr/bin/python3 - "$out" <<'PY'
import os, random, sys
out = sys.argv[1]
rnd = random.Random(20261122)
with open(os.path.join(out, "mailscan-bench.hdb.tmp"), "w") as f:
    for i in range(1_000_000):
        f.write(f"{rnd.getrandbits(128):032x}:{rnd.randrange(64, 1 << 22)}:MailscanBench.MD5.{i}\n")
with open(os.path.join(out, "mailscan-bench.ndb.tmp"), "w") as f:
    for i in range(100_000):
        f.write(f"MailscanBench.Body.{i}:0:*:{rnd.getrandbits(160):040x}\n")
for n in ("mailscan-bench.hdb", "mailscan-bench.ndb"):
    os.replace(os.path.join(out, n + ".tmp"), os.path.join(out, n))
PY
echo "benchsigs: 1000000 MD5 and 100000 body signatures in $out"
