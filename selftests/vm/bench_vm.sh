#!/usr/bin/env bash
# bench_vm.sh - "make bench-vm": per-packet cost in Debian's 6.1 kernel,
# where nf_flowtable exists, with live frames as in the datapath benchmark,
# in ONE lab and one fp_bench run, the paths taking turns (paired):
#   slow       XDP_PASS into nft + conntrack + masquerade
#   flowtable  XDP_PASS of a flow the kernel's flowtable has offloaded
#              (selftests/vm/flowtable_hook.sh), in the same router
#   fast       fastpath
#   redirect   the minimal MAC-rewrite + redirect
# TCG emulation skews absolute times, so only the ratios mean anything.
# Adds vm_* keys and ratio_flowtable_over_fast (median of the runs) and
# paired_flowtable_over_fast (median of the per-round ratios) to
# build/bench.json. Fails when a path did not forward, or when the
# forward chain saw more than 1% of the flowtable path's frames.
set -u
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-7}
FT_SPORT=40100

if [ "${1:-}" = inner ]; then
	vm_modules
	export FT_SPORT
	BENCH_JSON=/tmp/bench.json \
	BENCH_LAB_HOOK=selftests/vm/flowtable_hook.sh \
	BENCH_POST_HOOK=selftests/vm/flowtable_post.sh \
		scripts/bench.sh --only slow,flowtable,fast,redirect \
		--flowtable-sport "$FT_SPORT" --runs "$RUNS" >/tmp/bench.out 2>&1
	echo "VMRC $?"
	sed 's/^/  | /' /tmp/bench.out
	if [ -s /tmp/bench.json ]; then
		echo "VMJSON $(python3 -c 'import json; print(json.dumps(json.load(open("/tmp/bench.json"))))')"
	fi
	exit 0
fi

# --parse: only read build/bench_vm.log again (the output of the last run).
LOG=$TOP/build/bench_vm.log
if [ "${1:-}" != --parse ]; then
	if ! "$TOP/scripts/vm.sh" --probe 2>/dev/null; then
		echo "bench_vm: no VM can boot here (scripts/deps.sh vm)" >&2
		exit 1
	fi
	out=$("$TOP/scripts/vm.sh" -- "$0" inner) || { echo "bench_vm: the VM run failed" >&2; echo "$out" >&2; exit 1; }
	mkdir -p "$TOP/build"
	# The whole output, for when the summary below is not enough.
	printf '%s\n' "$out" >"$LOG"
fi
python3 -c '
import json, os, sys
rc, js, vals = None, None, {}
for line in sys.stdin:
    if line.startswith("  | "):
        print(line, end="")
        line = line[4:]     # the post hook prints inside the bench output
    f = line.split(None, 2)
    if len(f) >= 2 and f[0] == "VMRC":
        rc = int(f[1])
    elif len(f) >= 2 and f[0] == "VMJSON":
        js = json.loads(line.split(None, 1)[1])
    elif len(f) >= 3 and f[0] == "VMBENCH":
        vals[f[1]] = f[2].strip()
if rc != 0 or js is None:
    sys.exit("bench_vm: FAIL: the benchmark in the VM failed (exit %s%s); "
             "build/bench_vm.log has its output" % (rc, "" if js else ", no JSON"))
ns = {p["name"]: p for p in js["paths"]}
need = ("slow", "flowtable", "fast", "redirect")
missing = [k for k in need if k not in ns]
if missing:
    sys.exit("bench_vm: FAIL: no result for " + ", ".join(missing))
bad = [k for k in need if not ns[k]["ok"]]
if bad:
    sys.exit("bench_vm: FAIL: did not forward as intended: " + ", ".join(bad))
fwd = vals.get("ft_forward_pkts", "none")
frames = ns["flowtable"]["frames"]
if vals.get("ft_offloaded") != "1" or not fwd.isdigit() or int(fwd) > 0.01 * frames:
    sys.exit("bench_vm: FAIL: the flowtable path did not bypass the forward chain "
             "(%s of %d frames seen there, offloaded=%s)" % (fwd, frames, vals.get("ft_offloaded")))
r = {x["name"]: x for x in js["ratios"]}
res = {"vm_slow_ns": ns["slow"]["ns"], "vm_flowtable_ns": ns["flowtable"]["ns"],
       "vm_fast_ns": ns["fast"]["ns"], "vm_redirect_ns": ns["redirect"]["ns"],
       "ratio_flowtable_over_fast": r["ratio_flowtable_over_fast"]["median"],
       "paired_flowtable_over_fast": r["ratio_flowtable_over_fast"]["paired"],
       "vm_ratio_slow_over_fast": r["ratio_slow_over_fast"]["median"],
       "vm_ratio_fast_over_redirect": r["ratio_fast_over_redirect"]["median"],
       "vm_ratio_slow_over_flowtable": r["ratio_slow_over_flowtable"]["median"],
       "vm_ft_forward_pkts": int(fwd), "vm_ft_frames": frames}
path = sys.argv[1]
merged = {}
if os.path.exists(path):
    with open(path) as f:
        merged = json.load(f)
merged.update(res)
with open(path, "w") as f:
    json.dump(merged, f, indent=2)
    f.write("\n")
print("\nVM (Debian 6.1 under TCG, one lab, paths in turns; only the ratios are meaningful):")
for k in need:
    print("  %-10s %10.0f ns/pkt" % (k, ns[k]["ns"]))
for k in ("ratio_flowtable_over_fast", "paired_flowtable_over_fast",
          "vm_ratio_slow_over_fast", "vm_ratio_fast_over_redirect",
          "vm_ratio_slow_over_flowtable"):
    print("  %-30s %6.2f" % (k, res[k]))
print("  forward chain saw %d of the flowtable path'"'"'s %d frames" % (int(fwd), frames))
print("  target: ratio_flowtable_over_fast >= 8  %s" %
      ("met" if res["paired_flowtable_over_fast"] >= 8 else "MISSED"))
print("merged into", path)
' "$TOP/build/bench.json" <"$LOG"
