#!/usr/bin/env bash
# bench_vm.sh - "make bench-vm": per-packet cost in Debian's 6.1 kernel,
# where nf_flowtable exists, with live frames as in the datapath benchmark:
#   slow       XDP_PASS into nft + conntrack + masquerade
#   flowtable  XDP_PASS into the same router with the flow offloaded to the
#              kernel's flowtable (selftests/vm/flowtable_hook.sh)
#   fast       fastpath
#   redirect   the minimal MAC-rewrite + redirect
# TCG emulation skews absolute times, so only the ratios mean anything.
# Adds vm_* keys and ratio_flowtable_over_fast to build/bench.json.
set -u
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}

if [ "${1:-}" = inner ]; then
	vm_modules
	export BENCH_JSON=/tmp/bench.json
	# Two labs, so the kernel path is measured without and with the
	# flowtable; each reports medians of RUNS alternating runs.
	scripts/bench.sh --only slow,fast,redirect --runs "$RUNS" 2>&1 |
		awk '$2 == "" || $3 != "ns/pkt" { next } { print "VMBENCH", $1, $2 }'
	BENCH_LAB_HOOK=selftests/vm/flowtable_hook.sh scripts/bench.sh --only slow --runs "$RUNS" 2>&1 |
		awk '$3 == "ns/pkt" && $1 == "slow" { print "VMBENCH flowtable", $2 }'
	exit 0
fi

if ! "$TOP/scripts/vm.sh" --probe 2>/dev/null; then
	echo "bench_vm: no VM can boot here (scripts/deps.sh vm)" >&2
	exit 1
fi
out=$("$TOP/scripts/vm.sh" -- "$0" inner) || { echo "bench_vm: the VM run failed" >&2; echo "$out" >&2; exit 1; }
mkdir -p "$TOP/build"
python3 - "$TOP/build/bench.json" <<PY
import json, os, sys
vals = {}
for line in """$out""".splitlines():
    f = line.split()
    if len(f) == 3 and f[0] == "VMBENCH":
        vals[f[1]] = float(f[2])
need = ("slow", "flowtable", "fast", "redirect")
missing = [k for k in need if k not in vals]
if missing:
    sys.exit("bench_vm: no result for " + ", ".join(missing))
res = {"vm_slow_ns": vals["slow"], "vm_flowtable_ns": vals["flowtable"],
       "vm_fast_ns": vals["fast"], "vm_redirect_ns": vals["redirect"],
       "ratio_flowtable_over_fast": round(vals["flowtable"] / vals["fast"], 3),
       "vm_ratio_slow_over_fast": round(vals["slow"] / vals["fast"], 3),
       "vm_ratio_fast_over_redirect": round(vals["fast"] / vals["redirect"], 3),
       "vm_ratio_slow_over_flowtable": round(vals["slow"] / vals["flowtable"], 3)}
path = sys.argv[1]
merged = {}
if os.path.exists(path):
    with open(path) as f:
        merged = json.load(f)
merged.update(res)
with open(path, "w") as f:
    json.dump(merged, f, indent=2)
    f.write("\n")
print("\nVM (Debian 6.1 under TCG; only the ratios are meaningful):")
for k in need:
    print("  %-10s %10.0f ns/pkt" % (k, vals[k]))
for k in ("ratio_flowtable_over_fast", "vm_ratio_slow_over_fast",
          "vm_ratio_fast_over_redirect", "vm_ratio_slow_over_flowtable"):
    print("  %-30s %6.2f" % (k, res[k]))
print("  target: ratio_flowtable_over_fast >= 8  %s" %
      ("met" if res["ratio_flowtable_over_fast"] >= 8 else "MISSED"))
print("merged into", path)
PY
